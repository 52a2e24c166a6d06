"""Refresh Cost Codes on a project's Cost Code page, and the banner that follows the job."""
from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from portal.auth.permissions import deny, project_tool_required
from portal.extensions import db
from portal.models import JobStatus, Level
from portal.project_admin import bp
from portal.services import PermissionDenied
from portal.services.refresh import (
    fail_stalled_refreshes,
    latest_refresh,
    project_is_out_of_date,
    result_summary,
    start_project_refresh,
)
from portal.tasks import enqueue_refresh
from portal.web.htmx import is_htmx, poll_answer
from portal.web.layout import page_time_zone

# Pure helpers the refresh templates share (they load nothing): the out-of-date rule over a
# project's loaded dates, and a finished job's one-line result.
bp.add_app_template_global(project_is_out_of_date, "project_is_out_of_date")
bp.add_app_template_global(result_summary, "refresh_result_summary")


@bp.route("/<int:project_id>/admin/work-breakdown-structure/segments/cost-code/refresh", methods=["POST"])
@project_tool_required(Level.ADMIN)
def refresh_cost_codes(project):
    try:
        job = start_project_refresh(db.session, project, current_user)
    except PermissionDenied as error:
        deny(str(error))
    if job.status == JobStatus.QUEUED:
        enqueue_refresh(job.id)  # a duplicate for the same job is harmless: one worker claims it
    if not is_htmx():
        return redirect(url_for("project_admin.cost_codes", project_id=project.id))
    return _status_response(project)


@bp.route("/<int:project_id>/admin/work-breakdown-structure/segments/cost-code/refresh")
@project_tool_required(Level.READ_ONLY)
def refresh_status(project):
    """The banner's poll. A worker that died shows up here as a failed job within a minute."""
    fail_stalled_refreshes(db.session, project_id=project.id)
    if not is_htmx():
        return redirect(url_for("project_admin.cost_codes", project_id=project.id))
    return _status_response(project)


def _status_response(project):
    db.session.expire_all()
    job = latest_refresh(db.session, project.id)
    running = job is not None and not job.finished
    body = render_template(
        "project_admin/_refresh_status.html", project=project, refresh_job=job,
        admin_level=current_user.project_level(project.id), time_zone=page_time_zone(),
    )
    # Done: the poll stops; static/js/refresh.js reloads the cost code table on the event.
    return poll_answer(body, done=not running, trigger="cost-codes-refreshed")
