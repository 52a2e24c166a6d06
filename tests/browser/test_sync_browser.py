"""Approved codes reach the ERP: the Sync tab's Sync Now, then `flask erp list-codes --job`."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Project
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.helpers import company_by_slug
from tests.sync.factories import approved_request, project_by_number
from tests.sync.fixtures import erp, seeded_erp_file  # noqa: F401 (fixtures)


def test_sync_now_exports_approved_codes_keeping_erp_descriptions(app, page, live_server, erp):  # noqa: F811
    approved_request(
        project_by_number("RB-2401"), [("3010.000", "1"), ("1010.000", "4")],
        descriptions={"1010.000": "PM and admin (portal text)"},
    )
    log_in(page, live_server, "admin@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/sync")
    expect(page.get_by_role("heading", name="Schedule")).to_be_visible()
    expect(page.locator("#sync-runs")).to_contain_text("No sync has run yet.")
    assert_accessible(page, "Sync tab")
    screenshot(page, "sync-tab-before")

    page.get_by_role("button", name="Sync Now").click()
    runs = page.locator("#sync-runs")
    expect(runs.get_by_role("row")).to_have_count(2)
    expect(runs).to_contain_text("Succeeded")
    expect(runs).to_contain_text("Cost code exports:")
    expect(runs).to_contain_text("lines exported 2")
    # The result is announced in the page's live region, not only shown in the replaced table.
    announcement = page.locator("#flash-area[aria-live] [role=status]")
    expect(announcement).to_have_text("Sync run 1 finished: Succeeded.")
    assert_accessible(page, "Sync tab after Sync Now")
    screenshot(page, "sync-tab-after-sync-now")

    result = app.test_cli_runner().invoke(
        args=["erp", "list-codes", "--company", "ridgeline", "--job", "2401"]
    )
    assert result.exit_code == 0, result.output
    lines = {line.split("  ")[0]: line for line in result.output.splitlines()}
    # Sage 100 Contractor: a budget line per job and code, with no cost type (the portal keeps those).
    assert "budget lines carry no cost type" in result.output
    assert "Formwork" in lines["3010.000"]
    # The ERP already had 1010.000 on the job: its description stays.
    assert "Project Management" in lines["1010.000"] and "portal text" not in result.output


def test_viewer_sees_the_sync_tab_without_sync_now(page, live_server):
    log_in(page, live_server, "viewer@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/sync")
    expect(page.get_by_role("button", name="Sync Now")).to_be_disabled()
    expect(page.get_by_text("You need Admin on the ERP Integrations tool.")).to_be_visible()
    assert_accessible(page, "Sync tab (viewer)")
    screenshot(page, "sync-tab-viewer")


def test_ready_to_export_decisions_are_accessible_pages(app, page, live_server):
    project = Project(company_id=company_by_slug("ridgeline").id, number="2450", name="North Yard Depot")
    db.session.add(project)
    db.session.commit()
    project_id = project.id
    db.session.rollback()  # SQLite: hold no lock while the served app writes
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/projects/{project_id}/reject-export")
    expect(page.get_by_label("Reason")).to_be_focused()
    assert_accessible(page, "Reject for export")
    screenshot(page, "reject-for-export")
    page.get_by_label("Reason").fill("Use the existing job 2401")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator("#flash-area")).to_contain_text("rejected and sent back: Use the existing job 2401")
    page.goto(f"{live_server}/erp-integrations/projects/{project_id}/link-erp-job")
    assert_accessible(page, "Link to existing job")
    screenshot(page, "link-to-existing-job")


def test_a_broken_cost_code_file_shows_as_a_failure_on_the_run(app, page, live_server):
    app.config["ERP_CONNECTOR"] = "ridgeline=sage100_files"
    inbox = Path(app.config["SAGE100_INBOX_DIR"])
    inbox.mkdir(parents=True)
    (inbox / "cost_codes.txt").write_bytes(b"2010\tCaf\x81 \x8d\r\n")
    log_in(page, live_server, "admin@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/sync")
    page.get_by_role("button", name="Sync Now").click()
    runs = page.locator("#sync-runs")
    expect(runs).to_contain_text("Finished with failures")
    expect(runs).to_contain_text("cost_codes.txt: The cost code file is neither UTF-8 nor Windows-1252")
    assert_accessible(page, "Sync tab with a failed step")
    screenshot(page, "sync-tab-broken-file")
