"""Jobs → Failed to Export: each cause once, and what fixes it (Retry, Link to ERP job, Create
ERP job); Ready to Import → Link to project; the badge counts failures (issue 14, items 3, 5)."""
from __future__ import annotations

import html
import re

from sqlalchemy import select

from portal.erp.connectors import connector_for
from portal.extensions import db
from portal.models import ErpJob, Project, SyncRun, utcnow
from portal.services.sync import run_company_sync
from tests.helpers import audit_events, company_by_slug, user_by_email
from tests.sync.factories import approved_request, project_by_number
from tests.sync.wrappers import RecordingConnector

FAILED = "/erp-integrations/jobs?filter=failed_to_export"
LINES = [("5010.000", "1"), ("5010.000", "2"), ("5020.000", "1"), ("5030.000", "1"), ("5040.000", "3"),
         ("5050.000", "1")]


def _sync(app):
    company = company_by_slug("ridgeline")
    return run_company_sync(db.session, company.id, connector=connector_for(company, app.config))


def _missing_job(app, number="RB-2401", job="2494"):
    """RB-2401's ERP job is gone from the ERP (renamed there to another number): its approved
    six lines fail at the next sync, all for the same reason."""
    project = project_by_number(number)
    project.erp_job_number = job
    db.session.commit()
    request = approved_request(project, LINES)
    run = _sync(app)
    assert run.status == "partial", run.errors
    db.session.expire_all()
    return project, request


def _row(text: str, project: Project) -> str:
    match = re.search(rf'<tr id="failed-project-{project.id}">(.*?)</tr>', text, re.S)
    assert match, f"no Failed to Export row for {project.label}"
    return html.unescape(match.group(1))


def test_identical_causes_are_grouped_with_their_line_count(app, erp, client, auth):
    project, _request = _missing_job(app)
    auth.login_as("approver")
    row = _row(client.get(FAILED).get_data(as_text=True), project)
    sentence = 'Job "2494" does not exist in Sage 100 Contractor; create the job first.'
    assert row.count(sentence) == 1
    assert f"{sentence} (6 lines: 5010.000/1, 5010.000/2, 5020.000/1, …)" in row


def test_a_missing_job_offers_retry_link_and_create(app, erp, client, auth):
    project, _request = _missing_job(app)
    auth.login_as("approver")
    row = _row(client.get(FAILED).get_data(as_text=True), project)
    assert ">Retry<" in row and ">Link to ERP job<" in row and ">Create ERP job 2494<" in row


def test_a_failure_that_is_not_a_missing_job_offers_retry_only(app, erp, client, auth):
    project = project_by_number("RB-2401")
    approved_request(project, [("5010.000", "1"), ("5020.000", "1")])
    company = company_by_slug("ridgeline")
    busy = RecordingConnector(connector_for(company, app.config), fail_at=2)
    assert run_company_sync(db.session, company.id, connector=busy).status == "partial"
    auth.login_as("approver")
    row = _row(client.get(FAILED).get_data(as_text=True), project)
    assert "ERP busy, try later (1 line: 5020.000/1)" in row
    assert ">Retry<" in row and "Create ERP job" not in row and "Link to ERP job" not in row


def test_retry_starts_a_sync_that_exports_again_and_is_audited(app, erp, client, auth):
    project, request = _missing_job(app, job="2494")
    erp.add_job("ridgeline", "2494", "Riverside Apartments")  # accounting sets the job up
    auth.login_as("approver")
    response = client.post_form(
        f"/erp-integrations/projects/{project.id}/retry-export", {"project_number": project.number},
        headers={"Referer": "http://localhost" + FAILED},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert request.status == "exported"
    assert [event.object_label for event in audit_events("export.retry")] == [project.label]
    page = client.get(FAILED).get_data(as_text=True)
    assert "Retrying the export of RB-2401 Maple Street Medical Office." in html.unescape(page)
    assert f'id="failed-project-{project.id}"' not in page


def test_retry_is_refused_to_whoever_may_neither_approve_nor_sync(app, erp, client, auth):
    project, request = _missing_job(app)
    auth.login_as("accountant")  # Standard on ERP Integrations, without Can Push to Accounting
    response = client.post_form(
        f"/erp-integrations/projects/{project.id}/retry-export", {"project_number": project.number}
    )
    assert response.status_code == 403
    assert "Can Push to Accounting privilege to retry the export of RB-2401" in html.unescape(
        response.get_data(as_text=True)
    )
    db.session.expire_all()
    assert request.status == "failed" and not audit_events("export.retry")


def test_retry_of_a_project_with_nothing_failed_is_refused_by_name(app, erp, client, auth):
    project = project_by_number("RB-2403")
    auth.login_as("admin")
    response = client.htmx_post(
        f"/erp-integrations/projects/{project.id}/retry-export", {"project_number": project.number}
    )
    assert response.status_code == 409
    assert "Nothing of RB-2403 Summit Logistics Warehouse failed to export" in html.unescape(
        response.get_data(as_text=True)
    )


def test_create_erp_job_creates_the_missing_job_then_exports(app, erp, client, auth):
    project, request = _missing_job(app)
    auth.login_as("approver")
    response = client.post_form(
        f"/erp-integrations/projects/{project.id}/create-erp-job", {"project_number": project.number}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert (project.erp_link_state, project.erp_job_number) == ("linked", "2494")
    assert request.status == "exported"
    assert {code for code, _d, _t in erp.list_job_codes("ridgeline", "2494")} >= {"5010.000", "5050.000"}
    assert [event.object_label for event in audit_events("project.create_erp_job")] == [project.label]


def test_link_to_erp_job_moves_a_failed_project_to_the_renamed_job(app, erp, client, auth):
    project, request = _missing_job(app)
    erp.add_job("ridgeline", "2491", "Maple Street Medical Office (renamed)")
    _sync(app)  # finds the renamed job: it waits under Ready to Import
    renamed = db.session.scalar(select(ErpJob).where(ErpJob.number == "2491"))
    auth.login_as("approver")
    dialog = client.htmx_get(f"/erp-integrations/projects/{project.id}/link-erp-job").get_data(as_text=True)
    assert "2491 Maple Street Medical Office (renamed)" in dialog
    response = client.post_form(
        f"/erp-integrations/projects/{project.id}/link-erp-job", {"erp_job_id": str(renamed.id)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert (project.erp_link_state, project.erp_job_number) == ("linked", "2491")
    event = audit_events("project.link_erp_job")[-1]
    assert event.details["previous_erp_job"] == "2494"
    row = _row(client.get(FAILED).get_data(as_text=True), project)
    assert "the project now uses ERP job 2491" in row and "does not exist" not in row
    assert "Create ERP job" not in row
    _sync(app)
    db.session.expire_all()
    assert request.status == "exported"


def test_a_linked_project_without_a_failure_still_cannot_be_moved(app, erp, client, auth):
    project = project_by_number("RB-2403")
    job = ErpJob(company_id=project.company_id, number="2499", name="Harbor Road Bridge")
    db.session.add(job)
    db.session.commit()
    auth.login_as("approver")
    response = client.htmx_post(
        f"/erp-integrations/projects/{project.id}/link-erp-job", {"erp_job_id": str(job.id)}
    )
    assert response.status_code == 409
    assert "is already linked to ERP job 2403" in response.get_data(as_text=True)


def test_header_badge_counts_failed_exports_too(app, erp, client, auth):
    _missing_job(app)
    auth.login_as("approver")
    text = client.get("/projects/").get_data(as_text=True)
    # The demo's three waiting requests and the failed export.
    assert '<span class="badge" id="waiting-badge">4<span class="visually-hidden"> waiting for you' in text
    jobs = client.get(FAILED).get_data(as_text=True)
    assert '<span class="badge" id="waiting-badge">4<' in jobs


# --- Ready to Import → Link to project ---


def _ready_to_import_job():
    company = company_by_slug("ridgeline")
    job = ErpJob(company_id=company.id, number="2499", name="Harbor Road Bridge")
    project = Project(company_id=company.id, number="RB-2450", name="North Yard Depot")
    db.session.add_all([job, project])
    db.session.commit()
    return job, project


def test_ready_to_import_offers_link_to_project(client, auth):
    job, _project = _ready_to_import_job()
    auth.login_as("approver")
    page = client.get("/erp-integrations/jobs?filter=ready_to_import").get_data(as_text=True)
    assert f'href="/erp-integrations/ready-to-import/{job.id}/link-project"' in page
    dialog = client.htmx_get(f"/erp-integrations/ready-to-import/{job.id}/link-project")
    dialog = dialog.get_data(as_text=True)
    # Only projects with no ERP job yet are offered.
    assert "RB-2450 North Yard Depot" in dialog and "RB-2401" not in dialog


def test_link_to_project_links_the_job_and_is_audited(client, auth):
    job, project = _ready_to_import_job()
    auth.login_as("approver")
    response = client.post_form(
        f"/erp-integrations/ready-to-import/{job.id}/link-project", {"project_id": str(project.id)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert (project.erp_link_state, project.erp_job_number, job.project_id) == ("linked", "2499", project.id)
    event = audit_events("project.link_erp_job")[-1]
    assert event.actor_id == user_by_email("approver@ridgeline.test").id
    assert event.details["erp_job"] == "2499"


def test_link_to_a_project_that_has_a_job_is_refused_by_name(client, auth):
    job, _project = _ready_to_import_job()
    linked = project_by_number("RB-2401")
    auth.login_as("approver")
    response = client.htmx_post(
        f"/erp-integrations/ready-to-import/{job.id}/link-project", {"project_id": str(linked.id)}
    )
    assert response.status_code == 409
    assert "Project RB-2401 Maple Street Medical Office cannot be linked to another job" in html.unescape(
        response.get_data(as_text=True)
    )
    db.session.expire_all()
    assert job.project_id is None


def test_link_to_project_without_a_choice_asks_for_one(client, auth):
    job, _project = _ready_to_import_job()
    auth.login_as("approver")
    response = client.post_form(f"/erp-integrations/ready-to-import/{job.id}/link-project", {})
    assert response.status_code == 422
    assert "Choose a project from the list." in response.get_data(as_text=True)


def test_while_a_sync_runs_retry_waits_and_the_page_says_which_run_retries(app, erp, client, auth):
    project, _request = _missing_job(app)
    db.session.add(SyncRun(company_id=project.company_id, run_number=7, status="running",
                           heartbeat_at=utcnow()))
    db.session.commit()
    auth.login_as("approver")
    text = client.get(FAILED).get_data(as_text=True)
    assert "Sync run 7 is running: it retries these exports." in text
    row = _row(text, project)
    assert '<button type="button" class="primary" disabled aria-describedby="retry-running">Retry' in row
    assert "Create ERP job" not in row
