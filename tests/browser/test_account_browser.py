"""A Company Admin resets a user's password; the user logs in with it and chooses their own."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import AXE_SCRIPT, assert_accessible, log_in, screenshot

NEW_PASSWORD = "my-own-password-1"  # noqa: S105 (a test's password)


def _new_browser_page(browser):
    """Two people at two browsers: each their own context (cookies), with axe-core loaded."""
    context = browser.new_context()
    context.add_init_script(path=str(AXE_SCRIPT))
    return context.new_page()


def test_reset_password_then_the_user_chooses_a_new_one_on_account(browser, live_server):
    admin = _new_browser_page(browser)
    log_in(admin, live_server, "admin@ridgeline.test")
    admin.get_by_role("navigation", name="Tools").get_by_role("link", name="Company Admin").click()
    admin.get_by_role("link", name="Read Only Viewer (Ridgeline)").click()
    admin.get_by_role("button", name="Reset password").click()
    expect(admin.get_by_role("heading", name="Reset password")).to_be_visible()
    temporary = admin.locator("code.temporary-password").inner_text()
    assert len(temporary) >= 12
    assert_accessible(admin, "reset password")
    screenshot(admin, "reset-password")

    viewer = _new_browser_page(browser)
    log_in(viewer, live_server, "viewer@ridgeline.test", password=temporary)
    expect(viewer.get_by_role("heading", name="Account")).to_be_visible()
    expect(viewer.locator("#flash-area")).to_contain_text("Choose a new password")
    assert_accessible(viewer, "account, password reset")
    viewer.get_by_label("Current password").fill(temporary)
    viewer.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    viewer.get_by_label("New password again").fill(NEW_PASSWORD)
    viewer.get_by_role("button", name="Change password").click()
    expect(viewer.locator("#flash-area")).to_contain_text("Your password has been changed")
    viewer.get_by_role("navigation", name="Tools").get_by_role("link", name="Projects").click()
    expect(viewer.get_by_role("heading", name="Projects")).to_be_visible()
    screenshot(viewer, "account-after-change")
