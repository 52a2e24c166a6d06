"""What every screen shares: the focus ring, dialogs that keep what was typed, names in sentences."""
from __future__ import annotations

import re

from flask import url_for
from playwright.sync_api import expect

from portal.extensions import db
from portal.services.approvals import reject_requested_updates
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.helpers import first_project, user_by_email, waiting_request


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        value = value / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _rgb(css: str) -> tuple[int, int, int]:
    red, green, blue = (int(part) for part in re.findall(r"\d+", css)[:3])
    return red, green, blue


def test_the_focus_ring_has_3_to_1_contrast_on_the_page_and_on_the_header(page, live_server):
    log_in(page, live_server, "admin@ridgeline.test")
    page.goto(f"{live_server}/company-admin/directory")
    page.keyboard.press("Tab")  # the skip link, then the header's first tool
    page.keyboard.press("Tab")
    on_header = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    header = page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
    assert contrast(_rgb(on_header), _rgb(header)) >= 3
    page.get_by_role("searchbox").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focused by the keyboard, so :focus-visible applies
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    page_background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    for background in [(255, 255, 255), _rgb(page_background)]:
        assert contrast(_rgb(ring), background) >= 3, f"{ring} on {background}"


def test_escape_on_a_half_typed_reject_reason_asks_before_throwing_it_away(page, live_server):
    """Keyboard only: open Reject with Enter, type, Escape asks; keeping the text keeps the
    window open with the text; a second Escape, confirmed, closes it."""
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/jobs?filter=ready_to_update")
    page.get_by_role("link", name=re.compile("^Reject RB-2402")).focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Reject the cost code update")
    reason = dialog.get_by_label("Reason")
    expect(reason).to_be_focused()
    page.keyboard.type("Use 2 Labor for the partitions")

    questions = []

    def keep_the_text(question):
        questions.append(question.message)
        question.dismiss()

    page.once("dialog", keep_the_text)
    page.keyboard.press("Escape")
    expect(dialog).to_be_visible()
    expect(reason).to_have_value("Use 2 Labor for the partitions")
    assert questions == ["Discard what you typed? It has not been sent."]

    page.once("dialog", lambda question: question.accept())
    reason.focus()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def test_escape_on_an_empty_reject_reason_closes_without_asking(page, live_server):
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/jobs?filter=ready_to_update")
    page.get_by_role("link", name=re.compile("^Reject RB-2402")).focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Reject the cost code update")
    expect(dialog.get_by_label("Reason")).to_be_focused()
    page.on("dialog", lambda question: (_ for _ in ()).throw(AssertionError(question.message)))
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def test_names_and_quoted_reasons_read_as_sentences(app, page, live_server):
    """"Ridgeline Builders' list", not "Builders's"; a reason ending in a full stop is not
    followed by a second one after the closing quote."""
    request = waiting_request("ridgeline")
    project_id = request.project_id
    reject_requested_updates(
        db.session, request.id, user_by_email("approver@ridgeline.test"), "Wrong cost type.",
        company_id=request.company_id,
    )
    db.session.commit()
    log_in(page, live_server, "admin@ridgeline.test")
    with app.test_request_context():
        from_company = url_for("project_admin.cost_codes_from_company", project_id=first_project().id)
        cost_codes = url_for("project_admin.cost_codes", project_id=project_id)
    page.goto(f"{live_server}{from_company}")
    expect(page.get_by_role("main")).to_contain_text("Codes of Ridgeline Builders' ERP Standard")
    page.goto(f"{live_server}{cost_codes}")
    main = page.get_by_role("main")
    expect(main).to_contain_text("“Wrong cost type.” The codes can be changed")
    expect(main).not_to_contain_text("”.")
    assert_accessible(page, "cost codes after a rejection")
    screenshot(page, "cost-codes-rejected-reason")


def test_a_changed_project_level_is_not_lost_silently_when_another_section_is_saved(page, live_server):
    """Directory: the project levels and Can Push to Accounting save on their own. A changed,
    unsaved project level makes Grant ask first; keeping it leaves the page as it was, and once
    saved, Grant asks nothing and the level stays."""
    log_in(page, live_server, "admin@ridgeline.test")
    page.goto(f"{live_server}/company-admin/directory")
    page.get_by_role("link", name="Staff Accountant (Ridgeline)").click()
    level = page.get_by_label("Admin level on RB-2401", exact=False).first
    level.select_option(label="Admin")

    questions = []

    def keep_my_change(question):
        questions.append(question.message)
        question.dismiss()

    page.once("dialog", keep_my_change)
    page.get_by_role("button", name="Grant Can Push to Accounting").click()
    assert questions == [
        "You changed the project levels without saving. Continue, and lose those changes?"
    ]
    expect(page.get_by_role("button", name="Grant Can Push to Accounting")).to_be_visible()
    expect(level.locator("option:checked")).to_have_text("Admin")

    page.get_by_role("button", name="Save project levels").click()
    expect(page.locator("#flash-area")).to_contain_text("Staff Accountant (Ridgeline)")
    page.on("dialog", lambda question: (_ for _ in ()).throw(AssertionError(question.message)))
    page.get_by_role("button", name="Grant Can Push to Accounting").click()
    expect(page.get_by_role("button", name="Revoke Can Push to Accounting")).to_be_visible()
    saved_level = page.get_by_label("Admin level on RB-2401", exact=False).first
    expect(saved_level.locator("option:checked")).to_have_text("Admin")
    assert_accessible(page, "user page after saving levels and granting")
