"""A person logs in, sees the header and their tools, and logs out."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible, log_in, screenshot


def test_approver_logs_in_sees_header_and_tools_and_logs_out(page, live_server):
    page.goto(f"{live_server}/login")
    assert_accessible(page, "login")
    log_in(page, live_server, "approver@ridgeline.test")

    header = page.locator("header.site-header")
    expect(header).to_contain_text("Ridgeline Builders")
    expect(header).to_contain_text("Accounting Approver")
    tools = page.get_by_role("navigation", name="Tools")
    expect(tools.get_by_role("link", name="ERP Integrations")).to_be_visible()
    expect(tools.get_by_role("link", name="Projects")).to_be_visible()
    expect(tools.get_by_role("link", name="Company Admin")).to_have_count(0)
    assert_accessible(page, "approver home")
    screenshot(page, "login-approver-home")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.locator("#flash-area")).to_contain_text("You have logged out.")


def test_wrong_password_is_shown_on_the_login_page(page, live_server):
    log_in(page, live_server, "approver@ridgeline.test", password="wrong-password")
    expect(page.get_by_role("alert")).to_contain_text("Wrong e-mail or password.")
    assert_accessible(page, "login error")
