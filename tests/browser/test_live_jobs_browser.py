"""Issue 18: an approver's open Jobs tab shows a colleague's approval and a project team's new
request within 5 seconds, with the filter counts and the badge, without disturbing them: the
ticked row stays ticked and focused, an open window stays open, new rows wait for "Show"."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import CostCodeUpdateRequest, CostType, Project
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.browser.sizes import check_at_every_size
from tests.browser.test_approve_updates_browser import open_ready_to_update
from tests.helpers import first_project, user_by_email

LIVE = 5_000  # ms: the promise
TICKED = "RB-2402 Cedar Ridge Elementary"


def send_request_as_project_team():
    """The project manager adds Labor to an exported code and sends it for approval (the
    Project screens' Send to ERP), from a session of their own."""
    from portal.services.project_cost_codes import add_cost_types_to_code, send_updates_to_erp

    project = first_project()
    pm = user_by_email("pm@ridgeline.test")
    labor = db.session.scalar(
        select(CostType).where(CostType.company_id == project.company_id, CostType.code == "2")
    )
    cost_code = next(c for c in project.cost_codes if c.assignments[0].cost_type.code == "1")
    add_cost_types_to_code(db.session, project, pm, cost_code.id, {labor.id})
    send_updates_to_erp(db.session, project, pm)
    return project


def test_open_jobs_tab_shows_a_colleagues_approval_and_a_new_request(page, live_server, browser):
    open_ready_to_update(page, live_server, "approver@ridgeline.test")
    badge = page.locator("#waiting-badge")
    expect(badge).to_have_text("3 waiting for you: to approve or failed to export")
    rows = page.locator("#jobs-table tbody tr")
    other = rows.filter(has_not_text=TICKED).first
    other_label = other.locator("th").inner_text()

    # The approver ticks one row for a bulk Update; the box keeps focus.
    tick = page.get_by_role("checkbox", name=f"Tick {TICKED} to approve")
    tick.check()
    expect(tick).to_be_focused()

    # A colleague approves another row from their own browser.
    colleague = browser.new_context()
    colleague_page = colleague.new_page()
    try:
        log_in(colleague_page, live_server, "admin@ridgeline.test")
        colleague_page.goto(f"{live_server}/erp-integrations/jobs?filter=ready_to_update")
        colleague_page.get_by_role("row", name=re.compile(re.escape(other_label))).get_by_role(
            "button", name=re.compile("^Update")
        ).click()
        expect(colleague_page.get_by_role("status")).to_contain_text("Approved")
    finally:
        colleague.close()

    row = page.get_by_role("row", name=re.compile(re.escape(other_label)))
    expect(row).to_contain_text("Approved by Company Admin (Ridgeline)", timeout=LIVE)
    expect(badge).to_have_text("2 waiting for you: to approve or failed to export", timeout=LIVE)
    expect(tick).to_be_checked()
    expect(tick).to_be_focused()
    screenshot(page, "live-1-colleague-approved")

    # A window is open when the project team sends a request.
    waiting = page.get_by_role("row", name=re.compile(re.escape(TICKED)))
    waiting.get_by_role("link", name=re.compile("View Requested Updates")).click()
    dialog = page.get_by_role("dialog", name="Cost Codes for Update")
    expect(dialog).to_be_visible()
    close = dialog.get_by_role("button", name="Close")
    expect(close).to_be_focused()
    rows_before = rows.count()

    project = send_request_as_project_team()

    expect(page.get_by_role("link", name=re.compile(r"Ready to Update\s+4"))).to_be_visible(timeout=LIVE)
    expect(badge).to_have_text("3 waiting for you: to approve or failed to export", timeout=LIVE)
    news = page.locator("#jobs-live-news")
    expect(news).to_contain_text("1 new request", timeout=LIVE)
    # Nothing was put under the window or the mouse: same rows, window open, focus in it.
    expect(dialog).to_be_visible()
    expect(close).to_be_focused()
    assert rows.count() == rows_before
    expect(tick).to_be_checked()
    screenshot(page, "live-2-new-request-announced")

    close.click()
    expect(dialog).to_be_hidden()
    news.get_by_role("button", name=re.compile("^Show")).click()
    new_row = page.get_by_role("row", name=re.compile(re.escape(project.label)))
    expect(new_row).to_be_visible()
    expect(new_row.locator("th")).to_be_focused()
    expect(tick).to_be_checked()  # the tick survives the redrawn table
    expect(news).to_be_empty()
    assert_accessible(page, "Jobs after live updates")
    screenshot(page, "live-3-new-request-shown")


def test_refreshed_rows_keep_update_disabled_for_those_who_may_not_push(page, live_server):
    # Rule 1 in refreshed rows: the Staff Accountant sees the new request with Update disabled.
    open_ready_to_update(page, live_server, "accountant@ridgeline.test")
    project = send_request_as_project_team()
    page.locator("#jobs-live-news").get_by_role("button", name=re.compile("^Show")).click(timeout=LIVE)
    row = page.get_by_role("row", name=re.compile(re.escape(project.label)))
    expect(row.get_by_role("button", name=re.compile("^Update"))).to_be_disabled()
    expect(page.locator("#approve-refusal")).to_contain_text("Can Push to Accounting")


def test_the_news_of_new_rows_fits_a_phone_and_200_percent_zoom(browser, live_server):
    def announce_a_new_request(page):
        expect(page.get_by_role("heading", name="Ready to Update")).to_be_visible()
        new_request_of_the_project_team()
        show = page.locator("#jobs-live-news").get_by_role("button", name=re.compile("^Show"))
        expect(show).to_be_visible(timeout=LIVE)
        box = show.bounding_box()
        width = page.viewport_size["width"]
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box

    check_at_every_size(
        browser, live_server, "approver@ridgeline.test",
        "/erp-integrations/jobs?filter=ready_to_update", "live-news", announce_a_new_request,
    )


def new_request_of_the_project_team() -> None:
    """A request from a project with none open (the seeded ones have three)."""
    busy = select(CostCodeUpdateRequest.project_id).where(CostCodeUpdateRequest.status == "requested")
    project = db.session.scalar(
        select(Project).where(Project.company_id == first_project().company_id, Project.id.not_in(busy))
        .order_by(Project.number)
    )
    db.session.add(CostCodeUpdateRequest(
        company_id=project.company_id, project_id=project.id,
        requested_by_id=user_by_email("pm@ridgeline.test").id,
    ))
    db.session.commit()


def test_a_row_changed_above_the_mouse_waits_until_the_mouse_leaves(page, live_server):
    open_ready_to_update(page, live_server, "approver@ridgeline.test")
    rows = page.locator("#jobs-table tbody tr")
    first, last = rows.first, rows.last
    last.locator("th").hover()
    before = last.bounding_box()
    # A colleague approves the first row: redrawn, it would grow and push the hovered row down.
    request = db.session.get(CostCodeUpdateRequest, int(first.get_attribute("id").rsplit("-", 1)[1]))
    request.status = "approved"
    request.approved_by_id = user_by_email("admin@ridgeline.test").id
    request.approved_at = request.requested_at
    db.session.commit()
    badge = page.locator("#waiting-badge")
    expect(badge).to_have_text("2 waiting for you: to approve or failed to export", timeout=LIVE)
    page.wait_for_timeout(3_500)  # another poll and merge have passed
    assert last.bounding_box() == before
    expect(first).not_to_contain_text("Approved")
    page.get_by_role("heading", name="Ready to Update").hover()
    expect(first).to_contain_text("Approved by Company Admin (Ridgeline)")
