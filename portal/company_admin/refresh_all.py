"""Refresh all projects: one refresh job per out-of-date project, followed in one banner."""
from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user

from portal.auth.permissions import company_tool_required, deny
from portal.company_admin import bp
from portal.extensions import db
from portal.models import CompanyTool, JobStatus, Level
from portal.services import NotFound, PermissionDenied
from portal.services.refresh import batch_jobs, fail_stalled_refreshes, start_refresh_all_projects
from portal.services.refresh_overview import refresh_all_overview
from portal.tasks import enqueue_refresh
from portal.web.htmx import is_htmx, poll_answer
from portal.web.layout import render_page


@bp.route("/refresh-all-projects")
@company_tool_required(CompanyTool.COMPANY_ADMIN, Level.READ_ONLY)
def refresh_all():
    """Refresh all projects on a page of its own (the ERP Standard Cost Codes page includes it too)."""
    return render_page(
        "company_admin/refresh_all.html",
        refresh_all=refresh_all_overview(db.session, current_user.company),
    )


@bp.route("/refresh-all-projects", methods=["POST"])
@company_tool_required(CompanyTool.COMPANY_ADMIN, Level.ADMIN)
def start_refresh_all():
    try:
        batch = start_refresh_all_projects(db.session, current_user.company, current_user)
    except PermissionDenied as error:
        deny(str(error))
    for job in batch.jobs:
        if job.status == JobStatus.QUEUED:
            enqueue_refresh(job.id)
    if not is_htmx():
        return redirect(url_for("company_admin.refresh_all"))
    if not batch.jobs:
        body = render_template("company_admin/_refresh_all_status.html", batch_id=None, jobs=[])
        return poll_answer(body, done=True)
    return _batch_response(batch.batch_id)


@bp.route("/refresh-all-projects/<batch_id>")
@company_tool_required(CompanyTool.COMPANY_ADMIN, Level.READ_ONLY)
def refresh_all_status(batch_id: str):
    fail_stalled_refreshes(db.session)
    if not is_htmx():
        return redirect(url_for("company_admin.refresh_all"))
    return _batch_response(batch_id[:36])


def _batch_response(batch_id: str):
    db.session.expire_all()
    try:
        jobs = batch_jobs(db.session, current_user.company, batch_id)
    except NotFound:
        abort(404)
    done = all(job.finished for job in jobs)
    # When the batch is done the answer also brings the out-of-date list, swapped out of band.
    overview = refresh_all_overview(db.session, current_user.company, with_running=False) if done else None
    body = render_template(
        "company_admin/_refresh_all_status.html", batch_id=batch_id, jobs=jobs, refresh_all=overview
    )
    return poll_answer(body, done=done)
