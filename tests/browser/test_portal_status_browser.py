"""A Company Admin checks the portal's state from the Portal status tab."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible, log_in, screenshot


def test_admin_opens_portal_status_from_company_admin(page, live_server):
    log_in(page, live_server, "admin@ridgeline.test")
    page.goto(f"{live_server}/company-admin/directory")
    page.get_by_role("navigation", name="Company Admin").get_by_role("link", name="Portal status").click()
    expect(page.get_by_role("heading", name="Portal status")).to_be_visible()
    expect(page.get_by_role("row", name="Last backup")).to_contain_text("Never")
    expect(page.get_by_role("row", name="Mail")).to_contain_text("Not configured")
    assert_accessible(page, "portal status")
    screenshot(page, "company-admin-portal-status")
