"""Ready to Import and Ready to Export actions on the Jobs tab (whose rows include them)."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import ErpJob, Project
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.helpers import company_by_slug

ROWS = Path(__file__).resolve().parents[2] / "templates" / "erp_integrations"
pytestmark = pytest.mark.skipif(
    not (ROWS / "_jobs_rows_ready_to_import.html").exists(),
    reason="the Jobs tab's filter rows are not in this branch yet",
)


@pytest.fixture
def waiting_rows(app):
    company_id = company_by_slug("ridgeline").id
    db.session.add_all([
        ErpJob(company_id=company_id, number="2499", name="Harbor Road Bridge"),
        ErpJob(company_id=company_id, number="2498", name="Old Mill Lofts"),
        Project(company_id=company_id, number="2450", name="North Yard Depot"),
        Project(company_id=company_id, number="2451", name="South Yard Depot"),
    ])
    db.session.commit()
    db.session.rollback()  # SQLite: hold no lock while the served app writes


def test_approver_adds_and_hides_jobs_under_ready_to_import(page, live_server, waiting_rows):
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/jobs?filter=ready_to_import")
    expect(page.get_by_role("button", name="Hide job 2498")).to_be_visible()
    assert_accessible(page, "Ready to Import")
    screenshot(page, "ready-to-import")
    page.get_by_role("button", name="Add job 2499").click()
    expect(page.locator("#flash-area")).to_contain_text("Project 2499 Harbor Road Bridge added")
    page.get_by_role("button", name="Hide job 2498").click()
    expect(page.locator("#flash-area")).to_contain_text("ERP job 2498 hidden")
    expect(page.get_by_role("button", name="Hide job 2498")).to_have_count(0)
    assert db.session.scalar(select(Project.erp_job_number).where(Project.number == "2499")) == "2499"
    db.session.rollback()


def test_approver_rejects_links_and_accepts_under_ready_to_export(page, live_server, waiting_rows):
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/jobs?filter=ready_to_export")
    assert_accessible(page, "Ready to Export")
    screenshot(page, "ready-to-export")

    page.get_by_role("button", name="Link to existing job for 2450").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("ERP job")).to_be_focused()
    assert_accessible(page, "Link to existing job dialog")
    screenshot(page, "link-to-existing-job-dialog")
    dialog.get_by_label("ERP job").select_option(label="2498 Old Mill Lofts")
    dialog.get_by_role("button", name="Link").click()
    expect(page.locator("#flash-area")).to_contain_text("linked to ERP job 2498")

    page.get_by_role("button", name="Reject 2451").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Reason")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("button", name="Reject 2451")).to_be_focused()

    page.get_by_role("button", name="Accept 2451").click()
    expect(page.locator("#flash-area")).to_contain_text("the next sync creates its ERP job")
    screenshot(page, "ready-to-export-accepted")
