"""A Company Admin opens ERP settings, tests the connection and chooses a connector."""
from __future__ import annotations

from playwright.sync_api import expect

from portal.extensions import db
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.sync.fixtures import erp, seeded_erp_file  # noqa: F401 (fixtures)


def test_admin_tests_the_connection_and_chooses_the_sage100_database_connector(page, live_server, erp):  # noqa: F811
    # Seeding the reference ERP read the portal's database: end that transaction, which on SQLite
    # holds the write lock the live server needs.
    db.session.commit()
    log_in(page, live_server, "admin@ridgeline.test")
    page.goto(f"{live_server}/company-admin/directory")
    page.get_by_role("link", name="ERP settings").click()
    expect(page.get_by_role("heading", name="ERP settings")).to_be_visible()
    assert_accessible(page, "ERP settings")
    screenshot(page, "erp-settings")

    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#flash-area")).to_contain_text("Connected to Sage 100 Contractor: 9 cost types")

    page.get_by_label("Connector").select_option("sage100_database")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#flash-area")).to_contain_text("Sage 100 Contractor database (SQL Server) needs")
    page.get_by_label("Connector").select_option("sage100_database")
    page.get_by_label("Database URL (without the password)").fill("mssql+pymssql://portal@sql1/Ridgeline")
    page.locator("#setting-sage100_database-password").fill("s3cret")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#flash-area")).to_contain_text("Saved the ERP settings")
    expect(page.locator("#setting-sage100_database-password")).to_have_value("")
    expect(page.locator("#setting-sage100_database-password")).to_have_attribute(
        "placeholder", "Set: leave blank to keep it"
    )
    assert_accessible(page, "ERP settings after saving")
    screenshot(page, "erp-settings-saved")
