"""ERP Integrations → Commitments: Export waits for the cost codes, and keeps the user's place
(issue 14, items 9 and 10)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.extensions import db
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.browser.sizes import check_at_every_size
from tests.helpers import first_project
from tests.sync.factories import approved_request

WAITING = "RB-2402 Cedar Ridge Elementary"
FREE = "RB-2401 Maple Street Medical Office"


def _export_button(page, number: str):
    row = page.get_by_role("row", name=re.compile(f"{FREE}.*{number}"))
    return row.get_by_role("button", name=re.compile("^Export"))


def _tab_to(page, name: str, limit: int = 80):
    """Press Tab until the element named `name` has focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_export_waits_with_the_reason_in_its_row(page, live_server):
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/commitments")
    row = page.get_by_role("row", name=re.compile(f"{WAITING}.*SC-001"))
    export = row.get_by_role("button", name=re.compile("^Export"))
    expect(export).to_be_disabled()
    expect(export).to_have_accessible_description(re.compile("^Update the project's cost codes first"))
    expect(row).not_to_contain_text("Ready to export")
    screenshot(page, "commitments-waiting-row")


def test_keyboard_export_keeps_focus_in_the_row_then_moves_on(page, live_server):
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/commitments")
    _tab_to(page, "Export Contract SC-001")  # the first enabled Export: RB-2401's contract
    page.keyboard.press("Enter")
    row = page.get_by_role("row", name=re.compile(f"{FREE}.*SC-001"))
    expect(row).to_contain_text("Queued for the next data sync")
    state = row.locator("td[id$='-state']")
    expect(state).to_be_focused()
    page.keyboard.press("Tab")
    expect(_export_button(page, "CO-001")).to_be_focused()
    assert_accessible(page, "Commitments after Export")
    screenshot(page, "commitments-after-keyboard-export")


def test_a_refusal_names_the_project_and_focus_stays_on_export(page, live_server):
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/commitments")
    # The project's team sends a cost code update after the page was shown.
    approved_request(first_project(), [("3010.000", "1")], status="requested")
    db.session.rollback()
    _tab_to(page, "Export Contract SC-001")
    page.keyboard.press("Enter")
    expect(page.locator("#flash-area").get_by_role("alert")).to_contain_text(
        f"Contract SC-001 of {FREE} cannot be exported yet: update the project's cost codes first"
    )
    expect(_export_button(page, "SC-001")).to_be_focused()
    assert_accessible(page, "Commitments after a refusal")
    screenshot(page, "commitments-refused")


def test_commitments_at_every_size(browser, live_server):
    check_at_every_size(
        browser, live_server, "approver@ridgeline.test", "/erp-integrations/commitments", "commitments"
    )
