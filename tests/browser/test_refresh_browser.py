"""The seed, step by step: a project admin refreshes a project's cost codes and watches the banner.

The refresh runs in the background as in production: a huey consumer thread (storage in a tmp
SQLite file, not instance/) picks the job up, slowed by REFRESH_STEP_DELAY so the banner can be
seen; the page polls until the job ends.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from huey.storage import SqliteStorage
from playwright.sync_api import expect

import portal.tasks as tasks
from portal.extensions import db
from portal.models import utcnow
from portal.services.refresh import start_project_refresh
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.helpers import first_project, user_by_email
from tests.refresh.refresh_support import add_company_code

SLOW_STEP = 0.25  # seconds per progress step: about five seconds for the demo's 150 codes


@pytest.fixture
def background_worker(app, tmp_path, monkeypatch):
    saved = tasks.huey.storage, tasks.huey.immediate
    # Set the flag itself: huey's setter would open the configured instance/ storage.
    tasks.huey._immediate = False
    tasks.huey.storage = SqliteStorage(name=tasks.huey.name, filename=str(tmp_path / "huey.sqlite"))
    monkeypatch.setattr(tasks, "_consumer_app", app)  # tasks run against the test's database
    monkeypatch.setitem(app.config, "REFRESH_STEP_DELAY", SLOW_STEP)
    consumer = tasks.start_consumer(workers=1)
    yield consumer
    consumer.stop(graceful=True)
    tasks.huey.storage, tasks.huey._immediate = saved


def test_project_admin_refreshes_cost_codes_and_sees_the_green_banner_until_it_completes(
    page, live_server, background_worker
):
    # Accounting added a code in the ERP; the sync brought it into the company list.
    add_company_code("harbor-point", "01-050", "Mobilization")
    db.session.rollback()  # SQLite: leave no read transaction open while the browser works

    log_in(page, live_server, "pm@harborpoint.test")
    page.goto(f"{live_server}/projects/")
    row = page.get_by_role("row").filter(has_text="Pier 9 Ferry Terminal")
    expect(row).to_contain_text("Out of date")
    assert_accessible(page, "project list, out of date")
    screenshot(page, "refresh-1-projects-out-of-date")

    row.get_by_role("link", name="Pier 9 Ferry Terminal").click()
    expect(page.get_by_text("Out of date")).to_be_visible()
    assert_accessible(page, "project home, out of date")
    screenshot(page, "refresh-2-project-home")

    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name="Work Breakdown Structure").click()
    expect(page.get_by_role("heading", name="Segments")).to_be_visible()
    page.get_by_role("link", name="Cost Code", exact=True).click()
    expect(page.get_by_role("heading", name="Cost Code", exact=True)).to_be_visible()
    table = page.locator("#cost-code-table")
    expect(table).not_to_contain_text("01-050")
    assert_accessible(page, "cost code page")
    screenshot(page, "refresh-3-cost-code-page")

    page.get_by_role("button", name="Refresh Cost Codes").click()
    banner = page.locator("#refresh-status .banner-progress")
    expect(banner).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="refresh is in progress")).to_be_visible()
    expect(page.get_by_label("Company codes compared")).to_be_visible()
    page.wait_for_function(
        "() => { const p = document.getElementById('refresh-progress'); return p && p.value > 0 }"
    )
    assert_accessible(page, "cost code page with the refresh banner")
    screenshot(page, "refresh-4-green-banner")

    expect(banner).to_be_hidden(timeout=30_000)
    expect(table).to_contain_text("01-050")
    expect(table).to_contain_text("Mobilization")
    result = page.locator("#refresh-status .refresh-result")
    expect(result).to_contain_text("Refresh complete: 130 added, 0 descriptions updated")
    expect(page.locator("#refresh-status")).not_to_contain_text("Out of date")
    assert_accessible(page, "cost code page after the refresh")
    screenshot(page, "refresh-5-complete")


def test_company_admin_refreshes_all_projects_and_sees_each_result(
    app, page, live_server, background_worker, monkeypatch
):
    monkeypatch.setitem(app.config, "REFRESH_STEP_DELAY", 0.05)  # eight projects, one by one
    add_company_code("ridgeline", "1005.000", "Mobilization")
    db.session.rollback()

    log_in(page, live_server, "admin@ridgeline.test")
    page.goto(f"{live_server}/company-admin/refresh-all-projects")
    expect(page.get_by_text("8 projects out of date")).to_be_visible()
    assert_accessible(page, "refresh all projects")
    page.get_by_role("button", name="Refresh all projects").click()
    banner = page.locator("#refresh-all-status .banner-progress")
    expect(banner).to_be_visible()
    expect(page.get_by_label("Projects refreshed")).to_be_visible()
    assert_accessible(page, "refresh all projects with the banner")
    screenshot(page, "refresh-all-1-banner")

    expect(banner).to_be_hidden(timeout=90_000)
    status = page.locator("#refresh-all-status")
    expect(status).to_contain_text("Refresh all projects complete: 8 of 8 projects refreshed.")
    expect(status.get_by_role("listitem")).to_have_count(8)
    expect(page.locator("#refresh-all-summary")).to_contain_text("up to date")
    assert_accessible(page, "refresh all projects, results")
    screenshot(page, "refresh-all-2-results")


def test_refresh_whose_worker_died_shows_the_failure_and_can_be_tried_again(
    page, live_server, background_worker
):
    project = first_project("harbor-point")
    job = start_project_refresh(db.session, project, user_by_email("pm@harborpoint.test"))
    # Its worker died a while ago: the job still says "running", with an old heartbeat.
    job.status, job.heartbeat_at = "running", utcnow() - timedelta(minutes=2)
    job.progress_done, job.progress_total = 40, 150
    url = f"{live_server}/projects/{project.id}/admin/work-breakdown-structure/segments/cost-code/"
    db.session.commit()

    log_in(page, live_server, "pm@harborpoint.test")
    page.goto(url)
    alert = page.get_by_role("alert").filter(has_text="The refresh stopped unexpectedly")
    expect(alert).to_contain_text("nothing was changed. Try again.")
    assert_accessible(page, "cost code page, failed refresh")
    screenshot(page, "refresh-6-failed")

    alert.get_by_role("button", name="Try again").click()
    expect(page.locator("#refresh-status .refresh-result")).to_contain_text(
        "Refresh complete: 129 added", timeout=30_000
    )
    expect(page.get_by_role("alert")).to_have_count(0)
