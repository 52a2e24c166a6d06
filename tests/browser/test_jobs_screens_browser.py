"""Issue 14 on the Jobs tab: the Cost Codes for Update window one row per code, approved requests
that stay findable until exported, and approving several at once, by mouse and keyboard, checked
with axe-core at 1280 px, at 390 px and at 200% zoom (a 640 px wide viewport with a device scale
factor of 2: what a 1280 px screen shows at 200%)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import insert, select

from portal.extensions import db
from portal.models import ProjectCostCode, UpdateRequestLine
from tests.browser.helpers import AXE_SCRIPT, assert_accessible, log_in, screenshot
from tests.helpers import waiting_request

PROJECT = "RB-2402 Cedar Ridge Elementary"
SIZES = {
    "1280px": {"viewport": {"width": 1280, "height": 900}},
    "390px": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3},
    "zoom-200": {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2},
}


def _ready_to_update(page, live_server: str, email: str) -> None:
    log_in(page, live_server, email)
    page.goto(f"{live_server}/erp-integrations/jobs?filter=ready_to_update")


def _tab_to(page, selector: str, most: int = 80) -> None:
    """Press Tab until the element `selector` has focus, as a keyboard user would."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.fixture
def long_request(app):
    """RB-2402's request with 2,000 more codes, each asking for one cost type."""
    request = waiting_request()
    assert request.project.label == PROJECT
    request_id, project_id = request.id, request.project_id
    db.session.execute(insert(ProjectCostCode), [
        {"project_id": project_id, "code": f"{9000 + n // 1000}.{n % 1000:03d}",
         "description": f"Long request code {n}", "division": "9000", "origin": "company"}
        for n in range(2000)
    ])
    codes = db.session.execute(
        select(ProjectCostCode.id, ProjectCostCode.code, ProjectCostCode.description)
        .where(ProjectCostCode.project_id == project_id, ProjectCostCode.code.like("900_.%"))
    ).all()
    db.session.execute(insert(UpdateRequestLine), [
        {"request_id": request_id, "project_cost_code_id": code_id, "code": code,
         "description": description, "division": "9000", "cost_type_code": "2", "change": "new_code"}
        for code_id, code, description in codes
    ])
    db.session.commit()
    db.session.rollback()  # SQLite: hold no lock while the served app writes
    return request_id


def test_window_shows_one_row_per_code_with_marked_boxes_and_a_legend(page, live_server):
    _ready_to_update(page, live_server, "approver@ridgeline.test")
    row = page.get_by_role("row", name=re.compile(PROJECT))
    row.get_by_role("link", name=re.compile("View Requested Updates")).click()
    dialog = page.get_by_role("dialog", name="Cost Codes for Update")
    expect(dialog).to_be_visible()
    added = dialog.get_by_role("row", name=re.compile("Adds cost type"))
    expect(added).to_have_count(1)
    # One code, two ticked boxes told apart by their visible marks.
    expect(added.locator(".box-requested .box-mark")).to_have_text("New")
    expect(added.locator(".box-in-erp .box-mark")).to_have_text("ERP")
    for box in added.get_by_role("checkbox").all():
        expect(box).to_be_disabled()  # rule 2
    expect(dialog.get_by_text("Requested in this update")).to_be_visible()
    expect(dialog.get_by_text("The code already has this cost type in the ERP")).to_be_visible()


def test_long_request_scrolls_inside_the_window_with_its_headings_in_view_by_keyboard(
    page, live_server, long_request
):
    _ready_to_update(page, live_server, "viewer@ridgeline.test")
    opener = page.get_by_role("row", name=re.compile(PROJECT)).get_by_role(
        "link", name=re.compile("View Requested Updates")
    )
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Cost Codes for Update")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("row")).to_have_count(2000 + 4 + 1)
    dialog.get_by_role("region", name=re.compile("Requested cost codes"))
    _tab_to(page, ".requested-lines-scroll")
    heading = dialog.get_by_role("columnheader", name="Code")
    top_before = heading.bounding_box()["y"]
    page.keyboard.press("End")
    page.wait_for_function("() => document.querySelector('.requested-lines-scroll').scrollTop > 1000")
    # The column headings stay at the top of the region while its rows scroll under them.
    assert abs(heading.bounding_box()["y"] - top_before) < 2
    expect(dialog.get_by_role("rowheader", name="9001.999")).to_be_in_viewport()
    assert_accessible(page, "Cost Codes for Update, 2,000 codes, scrolled")
    page.screenshot(path=str(screenshot(page, "jobs14-window-long-request-scrolled")), full_page=False)


def test_approved_request_stays_findable_with_who_when_and_sync_now(page, live_server):
    _ready_to_update(page, live_server, "admin@ridgeline.test")
    row = page.get_by_role("row", name=re.compile(PROJECT))
    row.get_by_role("button", name=re.compile("^Update")).click()
    expect(page.get_by_role("status")).to_contain_text("Approved: the codes will be exported")
    row = page.get_by_role("row", name=re.compile(PROJECT))
    expect(row).to_contain_text(re.compile(r"Approved by Company Admin \(Ridgeline\) at \d{4}-\d\d-\d\d"))
    expect(row).to_contain_text("exported at the next sync (within a minute)")
    expect(row.get_by_role("button", name=re.compile("^Update"))).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile(r"Ready to Update\s+3"))).to_be_visible()
    assert_accessible(page, "Ready to Update with an approved request")
    screenshot(page, "jobs14-approved-row")
    page.reload()  # still there on a fresh page
    row = page.get_by_role("row", name=re.compile(PROJECT))
    row.get_by_role("button", name=re.compile("^Sync Now")).click()
    expect(page).to_have_url(re.compile(r"/erp-integrations/sync"))
    expect(page.get_by_role("status").first).to_contain_text("Sync run")


def test_approver_ticks_several_rows_and_updates_once_with_the_keyboard_only(page, live_server):
    _ready_to_update(page, live_server, "approver@ridgeline.test")
    boxes = page.get_by_role("checkbox", name=re.compile("^Tick .* to approve"))
    expect(boxes).to_have_count(3)
    _tab_to(page, 'input[name="request"]')
    page.keyboard.press("Space")
    _tab_to(page, 'input[name="request"]:not(:checked)')
    page.keyboard.press("Space")
    _tab_to(page, "#bulk-update button")
    page.keyboard.press("Enter")
    status = page.get_by_role("status")
    expect(status).to_contain_text("Approved 2 of 2 ticked requests.")
    expect(status.get_by_role("listitem")).to_have_count(2)
    expect(page.locator("#waiting-badge")).to_have_text("1 waiting for you: to approve or failed to export")
    expect(page.get_by_role("row", name=re.compile("Approved by Accounting Approver"))).to_have_count(2)
    assert_accessible(page, "Ready to Update after approving two at once")
    screenshot(page, "jobs14-approved-several")


@pytest.mark.parametrize("size", list(SIZES))
def test_jobs_tab_and_window_have_no_axe_violations_at_each_size(browser, live_server, size):
    context = browser.new_context(**SIZES[size])
    context.add_init_script(path=str(AXE_SCRIPT))
    page = context.new_page()
    try:
        _ready_to_update(page, live_server, "approver@ridgeline.test")
        page.get_by_role("row", name=re.compile("RB-2403")).get_by_role(
            "button", name=re.compile("^Update")
        ).click()
        expect(page.get_by_role("status")).to_contain_text("Approved")
        assert_accessible(page, f"Jobs · Ready to Update at {size}")
        screenshot(page, f"jobs14-ready-to-update-{size}")
        page.get_by_role("row", name=re.compile(PROJECT)).get_by_role(
            "link", name=re.compile("View Requested Updates")
        ).click()
        dialog = page.get_by_role("dialog", name="Cost Codes for Update")
        expect(dialog).to_be_visible()
        assert_accessible(page, f"Cost Codes for Update at {size}")
        page.screenshot(path=str(screenshot(page, f"jobs14-window-{size}")), full_page=False)
    finally:
        context.close()
