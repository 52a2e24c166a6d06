"""The Sync tab and the Ready to Import / Ready to Export actions, through the web app."""
from __future__ import annotations

import html

from flask import render_template
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, ErpJob, Project, SyncRun, utcnow
from tests.helpers import audit_count, company_by_slug, first_project
from tests.sync.factories import approved_request, project_by_number


def _erp_job(number="2499", name="Harbor Road Bridge", slug="ridgeline"):
    job = ErpJob(company_id=company_by_slug(slug).id, number=number, name=name)
    db.session.add(job)
    db.session.commit()
    return job


def _unlinked_project(number="RB-2450", name="North Yard Depot", state="ready_to_export"):
    project = Project(company_id=company_by_slug("ridgeline").id, number=number, name=name,
                      erp_link_state=state)
    db.session.add(project)
    db.session.commit()
    return project


def test_sync_tab_shows_the_schedule_and_the_next_run(client, auth):
    auth.login_as("viewer")
    page = client.get("/erp-integrations/sync")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Sync schedule: <strong>Hourly</strong>" in text
    assert "Next sync" in text and "No sync has run yet." in text
    assert "You need Admin on the ERP Integrations tool." in text  # Sync Now shown disabled


def test_sync_now_shows_the_new_run(client, auth, erp):
    approved_request(project_by_number("RB-2401"), [("3010.000", "1")])
    auth.login_as("admin")
    text = client.get("/erp-integrations/sync").get_data(as_text=True)
    assert '<option value="1h" selected>Hourly</option>' in text
    response = client.htmx_post("/erp-integrations/sync/now", {"company": "ridgeline"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Succeeded" in body and "Sync Now" in body
    run = db.session.scalar(select(SyncRun))
    assert (run.status, run.trigger) == ("succeeded", "manual")
    assert run.counts["cost_codes"]["lines_exported"] == 1
    assert audit_count("sync.request") == 1 and audit_count("sync.run") == 1
    # Done: the poll answers 286 and htmx stops asking.
    poll = client.htmx_get("/erp-integrations/sync/runs")
    assert poll.status_code == 286
    assert "Succeeded" in poll.get_data(as_text=True)


def test_the_run_list_polls_while_a_run_is_going(client, auth):
    company = company_by_slug("ridgeline")
    db.session.add(SyncRun(company_id=company.id, run_number=4, status="running", heartbeat_at=utcnow()))
    db.session.commit()
    auth.login_as("viewer")
    poll = client.htmx_get("/erp-integrations/sync/runs")
    assert poll.status_code == 200
    text = poll.get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in text and "Sync run 4 is running" in text


def test_sync_now_while_a_run_is_going_is_refused(client, auth):
    company = company_by_slug("ridgeline")
    db.session.add(SyncRun(company_id=company.id, run_number=1, status="running", heartbeat_at=utcnow()))
    db.session.commit()
    auth.login_as("admin")
    response = client.htmx_post("/erp-integrations/sync/now", {"company": "ridgeline"})
    assert response.status_code == 409
    assert "A sync of Ridgeline Builders is already running" in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 1


def test_only_an_erp_integrations_admin_may_sync_now_or_change_the_schedule(client, auth):
    auth.login_as("approver")
    assert client.post_form("/erp-integrations/sync/now", {"company": "ridgeline"}).status_code == 403
    assert client.post_form("/erp-integrations/sync/schedule", {"schedule": "5m"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 0
    assert company_by_slug("ridgeline").sync_schedule == "1h"


def test_sync_now_form_of_another_company_changes_nothing(client, auth):
    auth.login_as("admin")
    response = client.post_form("/erp-integrations/sync/now", {"company": "harbor-point"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 0


def test_admin_changes_the_sync_schedule(client, auth):
    auth.login_as("admin")
    response = client.post_form("/erp-integrations/sync/schedule", {"schedule": "15m"})
    assert response.status_code == 303
    company = company_by_slug("ridgeline")
    db.session.refresh(company)
    assert company.sync_schedule == "15m" and company.next_sync_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sync.schedule"))
    assert event.details == {"from": "Hourly", "to": "15 minutes"}
    assert "Sync schedule set to 15 minutes." in client.get("/erp-integrations/sync").get_data(as_text=True)
    client.post_form("/erp-integrations/sync/schedule", {"schedule": "never"})
    db.session.refresh(company)
    assert company.next_sync_at is None


def test_unknown_schedule_is_refused_naming_it(client, auth):
    auth.login_as("admin")
    response = client.post_form("/erp-integrations/sync/schedule", {"schedule": "1w"})
    assert response.status_code == 302  # back to the Sync tab, which shows why
    page = client.get(response.location).get_data(as_text=True)
    assert '"1w" is not a sync schedule' in html.unescape(page)
    assert company_by_slug("ridgeline").sync_schedule == "1h"


def test_ready_to_import_actions_name_the_job(app):
    job = _erp_job()
    with app.test_request_context():
        text = render_template("erp_integrations/_ready_to_import_actions.html", erp_job=job)
    assert 'aria-label="Hide job 2499"' in text and ">Add</button>" in text


def test_add_creates_the_project_linked_to_the_erp_job(client, auth):
    job = _erp_job()
    auth.login_as("approver")
    response = client.post_form("/erp-integrations/ready-to-import/add", {"erp_job_id": job.id})
    assert response.status_code == 303
    project = db.session.scalar(select(Project).where(Project.number == "2499"))
    assert (project.name, project.erp_job_number, project.erp_link_state) == (
        "Harbor Road Bridge", "2499", "linked")
    db.session.refresh(job)
    assert job.project_id == project.id
    assert audit_count("erp_job.import") == 1
    again = client.post_form("/erp-integrations/ready-to-import/add", {"erp_job_id": job.id})
    assert again.status_code == 302  # refused: back to the Jobs page with the reason
    assert db.session.scalar(select(func.count()).select_from(Project).where(Project.number == "2499")) == 1


def test_hide_takes_the_job_off_ready_to_import(client, auth):
    job = _erp_job()
    auth.login_as("accountant")
    response = client.post_form("/erp-integrations/ready-to-import/hide", {"erp_job_id": job.id})
    assert response.status_code == 303
    db.session.refresh(job)
    assert job.hidden and job.project_id is None
    assert audit_count("erp_job.hide") == 1


def test_a_foreign_erp_job_is_not_found(client, auth):
    job = _erp_job("23-0399", "Foreign job", slug="harbor-point")
    auth.login_as("admin")
    for action in ("add", "hide"):
        response = client.post_form(f"/erp-integrations/ready-to-import/{action}", {"erp_job_id": job.id})
        assert response.status_code == 404
    db.session.refresh(job)
    assert not job.hidden and job.project_id is None


def test_accept_lets_the_next_sync_create_the_erp_job(app, client, auth, erp):
    project = _unlinked_project(number="2450")
    auth.login_as("admin")  # Standard or Admin accepts; only Admin may Sync Now
    url = f"/erp-integrations/projects/{project.id}/accept-export"
    assert client.post_form(url, {"project_number": "2451"}).status_code == 400  # a stale form
    assert client.post_form(url, {"project_number": "2450"}).status_code == 303
    db.session.refresh(project)
    assert project.erp_link_state == "accepted"
    response = client.post_form("/erp-integrations/sync/now", {"company": "ridgeline"})
    assert response.status_code == 303, response.get_data(as_text=True)
    run = db.session.scalar(select(SyncRun))
    assert run.status == "succeeded", (run.status, run.errors)
    db.session.refresh(project)
    assert (project.erp_link_state, project.erp_job_number) == ("linked", "2450")
    assert "2450" in {job.number for job in erp.connector("ridgeline").fetch_jobs()}


def test_reject_needs_a_reason_and_sends_the_project_back(client, auth):
    project = _unlinked_project()
    auth.login_as("approver")
    dialog = client.htmx_get(f"/erp-integrations/projects/{project.id}/reject-export")
    text = dialog.get_data(as_text=True)
    assert "<dialog" in text and 'aria-label="Close"' in text
    empty = client.post_form(f"/erp-integrations/projects/{project.id}/reject-export", {"reason": "  "})
    assert empty.status_code == 422
    db.session.refresh(project)
    assert project.erp_link_state == "ready_to_export"
    response = client.post_form(
        f"/erp-integrations/projects/{project.id}/reject-export", {"reason": "Use job 2401 instead"}
    )
    assert response.status_code == 303
    db.session.refresh(project)
    assert (project.erp_link_state, project.erp_link_message) == ("rejected", "Use job 2401 instead")
    assert audit_count("project.export_reject") == 1
    client.get(response.headers["Location"])  # shows (and so clears) the confirmation
    failed = client.get("/erp-integrations/jobs?filter=failed_to_export").get_data(as_text=True)
    assert project.name not in failed  # a rejection is not an export failure


def test_link_to_existing_job(client, auth):
    project = _unlinked_project()
    job = _erp_job()
    auth.login_as("approver")
    dialog = client.htmx_get(f"/erp-integrations/projects/{project.id}/link-erp-job")
    assert f'<option value="{job.id}"' in dialog.get_data(as_text=True)
    url = f"/erp-integrations/projects/{project.id}/link-erp-job"
    response = client.post_form(url, {"erp_job_id": job.id})
    assert response.status_code == 303
    db.session.refresh(project)
    db.session.refresh(job)
    assert (project.erp_link_state, project.erp_job_number, job.project_id) == ("linked", "2499", project.id)
    assert audit_count("project.link_erp_job") == 1


def test_a_linked_project_cannot_be_linked_again(client, auth):
    project = first_project()
    job = _erp_job()
    auth.login_as("approver")
    url = f"/erp-integrations/projects/{project.id}/link-erp-job"
    response = client.htmx_post(url, {"erp_job_id": job.id})
    assert response.status_code == 409
    assert "is already linked to ERP job 2401" in html.unescape(response.get_data(as_text=True))
    db.session.refresh(job)
    assert job.project_id is None


def test_a_connector_setting_that_cannot_work_is_reported_on_the_run(app, client, auth):
    app.config["ERP_CONNECTOR"] = "ridgeline=sage300_api"
    auth.login_as("admin")
    response = client.htmx_post("/erp-integrations/sync/now", {"company": "ridgeline"})
    assert response.status_code == 200
    run = db.session.scalar(select(SyncRun))
    assert run.status == "failed"
    assert 'The ERP_CONNECTOR setting names "sage300_api"' in run.errors[0]["message"]
    assert "Failed" in response.get_data(as_text=True)


def test_ready_to_export_actions_follow_the_project_state(app):
    project = _unlinked_project()
    with app.test_request_context():
        waiting = render_template("erp_integrations/_ready_to_export_actions.html", project=project)
        project.erp_link_state, project.erp_link_message = "rejected", "Wrong client"
        rejected = render_template("erp_integrations/_ready_to_export_actions.html", project=project)
        project.erp_link_state, project.erp_link_message = "accepted", None
        accepted = render_template("erp_integrations/_ready_to_export_actions.html", project=project)
    db.session.rollback()
    assert all(label in waiting for label in (">Accept<", ">Reject<", ">Link to existing job<"))
    assert "Rejected: Wrong client" in rejected and ">Accept<" in rejected and ">Reject<" not in rejected
    assert ">Accept<" not in accepted and ">Reject<" in accepted
