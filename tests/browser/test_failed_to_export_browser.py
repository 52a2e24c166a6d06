"""Jobs → Failed to Export and Ready to Import, as the approver uses them (issue 14, items 3, 5):
each cause once, Retry, Link to ERP job, Create ERP job; Link to project."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.erp.connectors import connector_for
from portal.extensions import db
from portal.models import ErpJob, Project
from portal.services.sync import run_company_sync
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.browser.sizes import check_at_every_size
from tests.helpers import company_by_slug
from tests.sync.factories import approved_request, project_by_number
from tests.sync.fixtures import erp, seeded_erp_file  # noqa: F401 (fixtures)

FAILED = "/erp-integrations/jobs?filter=failed_to_export"
READY_TO_IMPORT = "/erp-integrations/jobs?filter=ready_to_import"
PROJECT = "RB-2401 Maple Street Medical Office"
LINES = [("5010.000", "1"), ("5010.000", "2"), ("5020.000", "1"), ("5030.000", "1"), ("5040.000", "3"),
         ("5050.000", "1")]


@pytest.fixture
def missing_job(app, erp):  # noqa: F811 (the fixture imported above)
    """RB-2401's ERP job 2494 is not in the ERP: its six approved lines failed at the last sync."""
    project = project_by_number("RB-2401")
    project.erp_job_number = "2494"
    db.session.commit()
    approved_request(project, LINES)
    company = company_by_slug("ridgeline")
    run = run_company_sync(db.session, company.id, connector=connector_for(company, app.config))
    assert run.status == "partial", run.errors
    db.session.rollback()  # SQLite: hold no lock while the served app writes
    return erp


def _row(page):
    return page.get_by_role("row", name=re.compile(PROJECT))


def test_a_missing_job_is_said_once_and_create_erp_job_fixes_it(page, live_server, missing_job):
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}{FAILED}")
    row = _row(page)
    expect(row).to_contain_text(
        'Job "2494" does not exist in Sage 100 Contractor; create the job first. '
        "(6 lines: 5010.000/1, 5010.000/2, 5020.000/1, …)"
    )
    expect(row.get_by_text(re.compile("does not exist"))).to_have_count(1)
    expect(page.locator("#waiting-badge")).to_have_text("4 waiting for you: to approve or failed to export")
    assert_accessible(page, "Failed to Export")
    screenshot(page, "failed-to-export-1-missing-job")
    row.get_by_role("button", name=re.compile("^Create ERP job 2494")).click()
    expect(page.locator("#flash-area")).to_contain_text(
        f"ERP job 2494 of {PROJECT} will be created, then its cost codes exported."
    )
    expect(_row(page)).to_have_count(0)
    expect(page.locator("#waiting-badge")).to_have_text("3 waiting for you: to approve or failed to export")
    assert_accessible(page, "Failed to Export after Create ERP job")
    screenshot(page, "failed-to-export-2-created")


def test_keyboard_retry_exports_again_once_the_job_exists(page, live_server, missing_job):
    missing_job.add_job("ridgeline", "2494", "Riverside Apartments")  # accounting sets it up
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}{FAILED}")
    retry = _row(page).get_by_role("button", name=re.compile("^Retry"))
    for _ in range(60):
        page.keyboard.press("Tab")
        if retry.evaluate("element => element === document.activeElement"):
            break
    expect(retry).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#flash-area")).to_contain_text(f"Retrying the export of {PROJECT}.")
    expect(_row(page)).to_have_count(0)
    screenshot(page, "failed-to-export-3-retried")


def test_link_to_erp_job_moves_the_project_to_its_renamed_job(page, live_server, missing_job):
    db.session.add(ErpJob(company_id=company_by_slug("ridgeline").id, number="2491",
                          name="Maple Street Medical Office"))
    db.session.commit()
    db.session.rollback()
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}{FAILED}")
    _row(page).get_by_role("button", name=re.compile("^Link to ERP job")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("ERP job")).to_be_focused()
    assert_accessible(page, "Link to ERP job from Failed to Export")
    screenshot(page, "failed-to-export-4-link-dialog")
    dialog.get_by_label("ERP job").select_option(label="2491 Maple Street Medical Office")
    dialog.get_by_role("button", name="Link").click()
    expect(page.locator("#flash-area")).to_contain_text(f"Project {PROJECT} linked to ERP job 2491")
    row = _row(page)
    expect(row.get_by_role("cell", name="2491", exact=True)).to_be_visible()
    # The old job's answers no longer apply: the row says where the lines go now, and offers Retry.
    expect(row).to_contain_text("the project now uses ERP job 2491")
    expect(row.get_by_role("button", name=re.compile("^Create ERP job"))).to_have_count(0)
    screenshot(page, "failed-to-export-5-linked")


def test_failed_to_export_at_every_size(browser, live_server, missing_job):
    check_at_every_size(browser, live_server, "approver@ridgeline.test", FAILED, "failed-to-export")


@pytest.fixture
def waiting_job(app):
    company_id = company_by_slug("ridgeline").id
    db.session.add_all([
        ErpJob(company_id=company_id, number="2499", name="Harbor Road Bridge"),
        Project(company_id=company_id, number="RB-2450", name="North Yard Depot"),
    ])
    db.session.commit()
    db.session.rollback()


def test_keyboard_links_a_ready_to_import_job_to_a_project(page, live_server, waiting_job):
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}{READY_TO_IMPORT}")
    link = page.get_by_role("link", name="Link to project for job 2499")
    link.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Link ERP job 2499 to a project")
    expect(dialog.get_by_label("Project")).to_be_focused()
    assert_accessible(page, "Link to project dialog")
    screenshot(page, "ready-to-import-link-project")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    # As a keyboard user does: wait for the window to open with the list focused, then choose.
    expect(dialog.get_by_label("Project")).to_be_focused()
    dialog.get_by_label("Project").select_option(label="RB-2450 North Yard Depot")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#flash-area")).to_contain_text(
        "ERP job 2499 linked to project RB-2450 North Yard Depot"
    )
    expect(page.get_by_role("link", name="Link to project for job 2499")).to_have_count(0)
    assert db.session.scalar(db.select(Project.erp_job_number).where(Project.number == "RB-2450")) == "2499"
    db.session.rollback()


def test_ready_to_import_and_its_dialog_at_every_size(browser, live_server, waiting_job):
    check_at_every_size(browser, live_server, "approver@ridgeline.test", READY_TO_IMPORT, "ready-to-import")

    def open_dialog(page):
        page.get_by_role("link", name="Link to project for job 2499").click()
        expect(page.get_by_role("dialog")).to_be_visible()

    check_at_every_size(
        browser, live_server, "approver@ridgeline.test", READY_TO_IMPORT, "link-project-dialog", open_dialog
    )
