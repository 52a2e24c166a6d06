"""A Company Admin grants Can Push to Accounting and finds it in the Audit Log."""
from __future__ import annotations

from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Level
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.helpers import user_by_email


def test_admin_grants_can_push_to_accounting_and_sees_it_in_the_audit_log(page, live_server):
    log_in(page, live_server, "admin@ridgeline.test")
    page.get_by_role("navigation", name="Tools").get_by_role("link", name="Company Admin").click()
    expect(page.get_by_role("heading", name="Directory")).to_be_visible()
    assert_accessible(page, "directory")
    screenshot(page, "company-admin-directory")

    page.get_by_role("link", name="Staff Accountant (Ridgeline)").click()
    expect(page.get_by_role("heading", name="Can Push to Accounting")).to_be_visible()
    assert_accessible(page, "user detail")
    screenshot(page, "company-admin-user-before")

    page.get_by_role("button", name="Grant Can Push to Accounting").click()
    expect(page.locator("#flash-area")).to_contain_text(
        "Granted Can Push to Accounting to Staff Accountant (Ridgeline)."
    )
    expect(page.get_by_role("button", name="Revoke Can Push to Accounting")).to_be_visible()
    assert_accessible(page, "user detail after the grant")
    screenshot(page, "company-admin-user-granted")

    page.get_by_role("navigation", name="Company Admin").get_by_role("link", name="Audit Log").click()
    first_row = page.locator("table.data tbody tr").first
    expect(first_row).to_contain_text("Granted a privilege to Staff Accountant (Ridgeline)")
    expect(first_row).to_contain_text("Staff Accountant (Ridgeline)")
    expect(first_row).to_contain_text("Can Push to Accounting changed from No to Yes.")
    assert_accessible(page, "audit log")
    screenshot(page, "company-admin-audit-log")

    page.get_by_label("Action").select_option("user.grant_privilege")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    assert_accessible(page, "audit log filtered")


def test_admin_browses_the_standard_cost_codes_and_the_add_user_form(page, live_server):
    log_in(page, live_server, "admin@ridgeline.test")
    page.goto(f"{live_server}/company-admin/standard-cost-codes")
    expect(page.get_by_role("heading", name="ERP Standard Cost Codes")).to_be_visible()
    page.get_by_label("Division").select_option("3000")
    expect(page.locator("#standard-cost-code-table")).to_contain_text("10 in all")
    assert_accessible(page, "standard cost codes")
    screenshot(page, "company-admin-standard-cost-codes")

    page.get_by_role("button", name="Archive 3010.000").click()
    expect(page.locator("#flash-area")).to_contain_text("Archived 3010.000 Formwork.")
    expect(page.get_by_role("button", name="Unarchive 3010.000")).to_be_visible()
    assert_accessible(page, "standard cost codes after archive")

    page.goto(f"{live_server}/company-admin/directory/new")
    page.get_by_label("Name").fill("Site Engineer")
    page.get_by_label("E-mail").fill("engineer@ridgeline.test")
    page.get_by_label("Initial password").fill("short")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("alert")).to_contain_text("The password must have at least 8 characters.")
    assert_accessible(page, "add user with an error")
    screenshot(page, "company-admin-add-user-error")


def test_admin_without_the_privilege_sees_the_control_disabled_with_the_reason(app, page, live_server):
    admin = user_by_email("admin@ridgeline.test")
    admin.can_push_to_accounting = False
    db.session.commit()
    log_in(page, live_server, "admin@ridgeline.test")
    page.goto(f"{live_server}/company-admin/directory")
    page.get_by_role("link", name="Staff Accountant (Ridgeline)").click()
    grant = page.get_by_role("button", name="Grant Can Push to Accounting")
    expect(grant).to_be_disabled()
    expect(page.get_by_text("Only someone who holds Can Push to Accounting may grant or revoke it.")
           ).to_be_visible()
    assert_accessible(page, "user detail without the privilege")
    screenshot(page, "company-admin-user-privilege-disabled")


def test_read_only_company_admin_sees_the_user_without_controls(app, page, live_server):
    viewer = user_by_email("viewer@ridgeline.test")
    viewer.company_admin_level = Level.READ_ONLY
    db.session.commit()
    log_in(page, live_server, "viewer@ridgeline.test")
    page.goto(f"{live_server}/company-admin/directory")
    expect(page.get_by_role("link", name="Add user")).to_have_count(0)
    page.get_by_role("link", name="Approver", exact=False).first.click()
    expect(page.get_by_role("heading", name="Company tools")).to_be_visible()
    expect(page.locator("main button, main select")).to_have_count(0)
    assert_accessible(page, "user detail read only")
    screenshot(page, "company-admin-user-read-only")


def test_sage300_admin_sets_the_cost_code_mask_and_sees_codes_that_do_not_fit(page, live_server):
    log_in(page, live_server, "admin@harborpoint.test")
    page.goto(f"{live_server}/company-admin/standard-cost-codes")
    expect(page.get_by_label("Cost code mask")).to_have_value("99-999")
    assert_accessible(page, "standard cost codes with the mask")
    page.get_by_label("Cost code mask").fill("99-99")
    page.get_by_role("button", name="Save mask").click()
    expect(page.locator("#flash-area")).to_contain_text("Cost code mask: 99-99.")
    expect(page.get_by_text("do not fit: listed as invalid")).to_be_visible()
    table = page.locator("#standard-cost-code-table")
    expect(table).to_contain_text("does not fit 99-99; its section 2 has 3 characters where the mask has 2.")
    assert_accessible(page, "standard cost codes with invalid codes")
    screenshot(page, "company-admin-cost-code-mask")
