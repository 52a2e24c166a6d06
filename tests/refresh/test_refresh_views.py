"""Refresh Cost Codes and Refresh all projects, through the pages and their htmx requests."""
from __future__ import annotations

from datetime import timedelta

from flask import g
from sqlalchemy import select

from portal.extensions import db
from portal.models import Level, ProjectPermission, RefreshJob, utcnow
from portal.services.refresh import start_project_refresh
from tests.helpers import first_project, user_by_email
from tests.refresh.refresh_support import add_company_code, jobs_of, project_codes


def cost_code_url(project):
    return f"/projects/{project.id}/admin/work-breakdown-structure/segments/cost-code/"


def refresh_url(project):
    return cost_code_url(project) + "refresh"


def queued_job(project):
    """A job no worker has picked up yet (as while the banner is showing)."""
    return start_project_refresh(db.session, project, user_by_email("pm@ridgeline.test"))


def test_refresh_button_is_shown_to_project_admins(client, auth):
    auth.login_as("pm")
    page = client.get(cost_code_url(first_project())).get_data(as_text=True)
    assert "Refresh Cost Codes</button>" in page
    assert 'hx-post="' + refresh_url(first_project()) + '"' in page
    assert 'id="refresh-status"' in page and 'role="status"' in page


def test_refresh_button_is_disabled_with_the_reason_without_admin(client, auth):
    project = first_project()
    viewer = auth.login_as("viewer")
    db.session.add(ProjectPermission(user_id=viewer.id, project_id=project.id,
                                     admin_level=Level.READ_ONLY))
    db.session.commit()
    page = client.get(cost_code_url(project)).get_data(as_text=True)
    assert '<button type="button" disabled aria-describedby="refresh-disabled-reason">' in page
    assert "You need Admin on this project's Admin tool to refresh its cost codes." in page
    assert client.htmx_post(refresh_url(project)).status_code == 403
    assert jobs_of(project) == []


def test_refresh_answers_with_the_result_stops_polling_and_reloads_the_table(client, auth):
    project = first_project()
    add_company_code("ridgeline", "9950.000", "Commissioning")
    auth.login_as("pm")
    response = client.htmx_post(refresh_url(project))  # tests run huey in immediate mode
    body = response.get_data(as_text=True)
    assert response.status_code == 286
    assert response.headers["HX-Trigger"] == "cost-codes-refreshed"
    assert "Refresh complete: 130 added, 0 descriptions updated, 0 no longer in the company list." in body
    assert "refresh is in progress" not in body
    assert "9950.000" in project_codes(project)


def test_banner_shows_while_a_refresh_runs_and_polls_every_second(client, auth):
    project = first_project()
    queued_job(project)
    auth.login_as("pm")
    page = client.get(cost_code_url(project)).get_data(as_text=True)  # coming back to the page
    assert "A refresh is in progress" in page
    assert 'hx-trigger="every 1s"' in page and 'hx-target="#refresh-status"' in page
    assert "<progress" in page and '<label for="refresh-progress">' in page


def test_second_click_while_a_refresh_is_queued_returns_the_same_job(client, auth, monkeypatch):
    monkeypatch.setattr("portal.project_admin.refresh.enqueue_refresh", lambda job_id: None)
    project = first_project()
    auth.login_as("pm")
    first = client.htmx_post(refresh_url(project))
    second = client.htmx_post(refresh_url(project))
    assert first.status_code == second.status_code == 200
    assert "refresh is in progress" in second.get_data(as_text=True)
    assert len(jobs_of(project)) == 1


def test_poll_answers_200_while_running_and_286_when_done(client, auth):
    project = first_project()
    job = queued_job(project)
    auth.login_as("pm")
    running = client.htmx_get(refresh_url(project))
    assert running.status_code == 200
    job.status, job.progress_done, job.progress_total = "running", 40, 150
    job.heartbeat_at = utcnow()
    db.session.commit()
    running = client.htmx_get(refresh_url(project)).get_data(as_text=True)
    assert 'value="40" max="150"' in running
    job.status, job.added, job.finished_at = "succeeded", 12, utcnow()
    db.session.commit()
    done = client.htmx_get(refresh_url(project))
    assert done.status_code == 286
    assert "Refresh complete: 12 added" in done.get_data(as_text=True)


def test_poll_marks_a_stalled_refresh_failed_with_try_again(client, auth):
    project = first_project()
    job = queued_job(project)
    job.status, job.heartbeat_at = "running", utcnow() - timedelta(minutes=2)
    db.session.commit()
    auth.login_as("pm")
    response = client.htmx_get(refresh_url(project))
    body = response.get_data(as_text=True)
    assert response.status_code == 286
    assert 'role="alert"' in body
    assert "The refresh stopped unexpectedly; nothing was changed. Try again." in body
    assert "Try again</button>" in body
    again = client.htmx_post(refresh_url(project))
    assert again.status_code == 286 and "Refresh complete" in again.get_data(as_text=True)


def test_refresh_without_htmx_goes_back_to_the_cost_code_page(client, auth):
    project = first_project()
    auth.login_as("pm")
    response = client.post_form(refresh_url(project))
    assert response.status_code == 302 and response.location.endswith(cost_code_url(project))
    page = client.get(cost_code_url(project)).get_data(as_text=True)
    assert "Refresh complete: 129 added" in page


def test_project_list_and_home_say_when_codes_are_out_of_date(client, auth):
    project = first_project()
    auth.login_as("pm")
    assert "Out of date" not in client.get("/projects/").get_data(as_text=True)
    add_company_code("ridgeline", "9950.000", "Commissioning")
    assert "Out of date" in client.get("/projects/").get_data(as_text=True)
    home = client.get(f"/projects/{project.id}/").get_data(as_text=True)
    assert "Out of date" in home and "Refresh them on the" in home
    client.htmx_post(refresh_url(project))
    assert "Out of date" not in client.get(f"/projects/{project.id}/").get_data(as_text=True)


def test_refresh_all_projects_refreshes_every_out_of_date_project(client, auth):
    add_company_code("ridgeline", "9950.000", "Commissioning")
    auth.login_as("admin")
    page = client.get("/company-admin/refresh-all-projects").get_data(as_text=True)
    assert "8 projects out of date" in page and "Refresh all projects</button>" in page
    response = client.htmx_post("/company-admin/refresh-all-projects")
    body = response.get_data(as_text=True)
    assert response.status_code == 286
    assert "Refresh all projects complete: 8 of 8 projects refreshed." in body
    assert body.count("Refresh complete:") == 8
    jobs = db.session.scalars(select(RefreshJob)).all()
    assert len(jobs) == 8 and len({job.batch_id for job in jobs}) == 1
    page = client.get("/company-admin/refresh-all-projects").get_data(as_text=True)
    assert "Every project's cost codes are up to date" in page


def test_refresh_all_banner_polls_while_jobs_wait(client, auth, monkeypatch):
    monkeypatch.setattr("portal.company_admin.refresh_all.enqueue_refresh", lambda job_id: None)
    add_company_code("ridgeline", "9950.000", "Commissioning")
    auth.login_as("admin")
    body = client.htmx_post("/company-admin/refresh-all-projects").get_data(as_text=True)
    assert "refresh is in progress" in body and 'hx-trigger="every 1s"' in body
    assert 'value="0" max="8"' in body
    page = client.get("/company-admin/refresh-all-projects").get_data(as_text=True)
    assert "refresh is in progress" in page  # coming back shows the banner again


def test_refresh_all_needs_admin_on_company_admin(client, auth):
    add_company_code("ridgeline", "9950.000", "Commissioning")
    auth.login_as("pm")
    assert client.htmx_post("/company-admin/refresh-all-projects").status_code == 403
    assert db.session.scalars(select(RefreshJob)).all() == []


def test_refresh_all_of_another_company_is_not_found(client, auth, monkeypatch):
    monkeypatch.setattr("portal.company_admin.refresh_all.enqueue_refresh", lambda job_id: None)
    add_company_code("harbor-point", "05-960", "Bulkheads")
    auth.login_as("admin", company="harborpoint.test")
    client.htmx_post("/company-admin/refresh-all-projects")
    batch_id = db.session.scalar(select(RefreshJob.batch_id))
    auth.login_as("admin")
    g.pop("_login_user", None)  # requests share the test's app context, and Flask-Login's cache
    assert client.htmx_get(f"/company-admin/refresh-all-projects/{batch_id}").status_code == 404


