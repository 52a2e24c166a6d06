"""An approver chooses the daily digest on Account → Notifications; the Company Admin opens
Undelivered Mail. Both screens pass the accessibility check."""
from __future__ import annotations

from playwright.sync_api import expect

from portal.extensions import db
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.helpers import user_by_email


def test_approver_chooses_the_daily_digest(page, live_server):
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}/account/notifications")
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    assert_accessible(page, "notifications")
    page.get_by_label("One daily digest").check()
    page.get_by_role("button", name="Save notifications").click()
    expect(page.locator("#flash-area")).to_contain_text("Saved: One daily digest.")
    expect(page.get_by_label("One daily digest")).to_be_checked()
    screenshot(page, "account-notifications")
    db.session.expire_all()
    assert user_by_email("approver@ridgeline.test").approval_mail == "daily"


def test_company_admin_opens_undelivered_mail(page, live_server):
    log_in(page, live_server, "admin@ridgeline.test")
    page.goto(f"{live_server}/company-admin/directory")
    page.get_by_role("navigation", name="Company Admin").get_by_role("link", name="Undelivered Mail").click()
    expect(page.get_by_role("heading", name="Undelivered Mail")).to_be_visible()
    expect(page.get_by_text("Every e-mail was delivered.")).to_be_visible()
    assert_accessible(page, "undelivered mail")
    screenshot(page, "company-admin-undelivered-mail")
