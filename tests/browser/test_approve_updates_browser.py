"""The help article, step by step: an accounting approver reviews and updates requested cost codes.

ERP Integrations → Jobs → Ready to Update → View Requested Updates (the boxes are greyed out)
→ close (×) → Update → the row says who approved it and when it will be exported.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible, log_in, screenshot

PROJECT = "RB-2402 Cedar Ridge Elementary"


def open_ready_to_update(page, live_server: str, email: str):
    log_in(page, live_server, email)
    page.get_by_role("navigation", name="Tools").get_by_role("link", name="ERP Integrations").click()
    expect(page).to_have_title(re.compile("^ERP Integration"))
    expect(page.get_by_role("heading", name="ERP Integration", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="ERP Integrations").get_by_role("link", name="Jobs").click()
    page.get_by_role("navigation", name="Filters").get_by_role(
        "link", name=re.compile("Ready to Update")
    ).click()
    expect(page).to_have_url(re.compile(r"filter=ready_to_update"))
    row = page.get_by_role("row", name=re.compile(PROJECT))
    expect(row).to_be_visible()
    return row


def test_approver_reviews_the_requested_updates_and_updates(page, live_server):
    row = open_ready_to_update(page, live_server, "approver@ridgeline.test")
    badge = page.locator("#waiting-badge")
    expect(badge).to_have_text("3 waiting for you: to approve or failed to export")
    expect(page.get_by_role("link", name=re.compile(r"Ready to Update\s+3"))).to_be_visible()
    assert_accessible(page, "Jobs · Ready to Update")
    screenshot(page, "approve-1-ready-to-update")

    row.get_by_role("link", name=re.compile("View Requested Updates")).click()
    dialog = page.get_by_role("dialog", name="Cost Codes for Update")
    expect(dialog).to_be_visible()
    boxes = dialog.get_by_role("checkbox")
    assert boxes.count() == 4 * 5  # four lines, Ridgeline's five cost types
    for index in range(boxes.count()):
        expect(boxes.nth(index)).to_be_disabled()
    expect(dialog.get_by_text("Adds cost type")).to_be_visible()
    assert_accessible(page, "Cost Codes for Update")
    screenshot(page, "approve-2-cost-codes-for-update")

    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    row.get_by_role("button", name=re.compile("^Update")).click()
    # Rule 11: the approved request stays under Ready to Update until the sync exports it.
    approved = page.get_by_role("row", name=re.compile(PROJECT))
    expect(approved).to_contain_text("Approved by Accounting Approver (Ridgeline)")
    expect(approved.get_by_role("button", name=re.compile("^Update"))).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text(
        "Approved: the codes will be exported to the ERP at the next data sync (next sync: within a minute)"
    )
    expect(page.get_by_role("link", name=re.compile(r"Ready to Update\s+3"))).to_be_visible()
    expect(badge).to_have_text("2 waiting for you: to approve or failed to export")
    expect(page.locator("#jobs-heading")).to_be_focused()  # the focused Update button is gone
    assert_accessible(page, "Jobs after Update")
    screenshot(page, "approve-3-after-update")

    page.reload()
    expect(page.get_by_role("row", name=re.compile(PROJECT))).to_contain_text("Approved by")
    page.get_by_role("link", name=re.compile("^Synced")).click()
    expect(page).to_have_url(re.compile(r"filter=synced"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"filter=ready_to_update"))


def test_viewer_sees_the_window_but_cannot_update(page, live_server):
    row = open_ready_to_update(page, live_server, "viewer@ridgeline.test")
    update = row.get_by_role("button", name=re.compile("^Update"))
    expect(update).to_be_disabled()
    expect(row.get_by_role("button", name=re.compile("^Reject"))).to_be_disabled()
    expect(page.get_by_text("You need Standard or Admin on ERP Integrations")).to_be_visible()
    expect(page.locator("#waiting-badge")).to_have_count(0)
    assert_accessible(page, "Jobs as Read Only")
    screenshot(page, "viewer-1-update-disabled")

    row.get_by_role("link", name=re.compile("View Requested Updates")).click()
    dialog = page.get_by_role("dialog", name="Cost Codes for Update")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("checkbox").first).to_be_disabled()
    assert_accessible(page, "Cost Codes for Update as Read Only")
    screenshot(page, "viewer-2-cost-codes-for-update")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_accountant_is_told_about_the_can_push_to_accounting_privilege(page, live_server):
    row = open_ready_to_update(page, live_server, "accountant@ridgeline.test")
    expect(row.get_by_role("button", name=re.compile("^Update"))).to_be_disabled()
    expect(page.get_by_text("You need the Can Push to Accounting privilege")).to_be_visible()
    assert_accessible(page, "Jobs without Can Push to Accounting")


def test_window_opens_with_enter_closes_with_escape_and_returns_focus(page, live_server):
    row = open_ready_to_update(page, live_server, "approver@ridgeline.test")
    opener = row.get_by_role("link", name=re.compile("View Requested Updates"))
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Cost Codes for Update")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    for _ in range(3):  # a modal dialog keeps Tab inside the window (and the browser's own UI)
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.activeElement.closest('dialog') !== null || document.activeElement === document.body"
        )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


def test_approver_rejects_with_a_reason(page, live_server):
    row = open_ready_to_update(page, live_server, "approver@ridgeline.test")
    row.get_by_role("link", name=re.compile("^Reject")).click()
    dialog = page.get_by_role("dialog", name="Reject the cost code update")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Reason")).to_be_focused()
    dialog.get_by_role("button", name="Reject").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Give a reason for the rejection")
    assert_accessible(page, "Reject dialog with a missing reason")
    screenshot(page, "reject-1-reason-missing")
    dialog.get_by_label("Reason").fill("Use 2 Labor for the partitions, not 1 Material.")
    dialog.get_by_role("button", name="Reject").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("row", name=re.compile(PROJECT))).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("Rejected: RB-2402 Cedar Ridge Elementary")
    assert_accessible(page, "Jobs after Reject")
    screenshot(page, "reject-2-after-reject")


def test_commitment_export_waits_for_the_cost_code_update(page, live_server):
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/commitments")
    row = page.get_by_role("row", name=re.compile(f"{PROJECT}.*SC-001"))
    expect(row).to_contain_text("Cost code update waiting for approval")
    assert_accessible(page, "Commitments")
    # Rule 5: Export waits, disabled, with the reason in the row.
    expect(row.get_by_role("button", name=re.compile("^Export"))).to_be_disabled()
    expect(row).to_contain_text("Update the project's cost codes first")
    screenshot(page, "commitments-1-waiting")

    other = page.get_by_role("row", name=re.compile("RB-2401 Maple Street Medical Office.*SC-001"))
    other.get_by_role("button", name=re.compile("^Export")).click()
    expect(page.get_by_role("status")).to_contain_text(
        "Contract SC-001 of RB-2401 Maple Street Medical Office"
    )
    expect(
        page.get_by_role("row", name=re.compile("RB-2401 Maple Street Medical Office.*SC-001"))
    ).to_contain_text("Queued for the next data sync")
    assert_accessible(page, "Commitments after Export")
    screenshot(page, "commitments-2-exported")
