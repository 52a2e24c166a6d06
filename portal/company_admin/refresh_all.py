"""Refresh all projects: one refresh job per out-of-date project, followed in one banner."""
from __future__ import annotations

from flask import abort, make_response, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.auth.permissions import company_tool_required, deny
from portal.company_admin import bp
from portal.extensions import db
from portal.models import CompanyTool, JobStatus, Level, Project
from portal.services import NotFound, PermissionDenied
from portal.services.refresh import (
    active_batch_id,
    batch_jobs,
    fail_stalled_refreshes,
    out_of_date_clause,
    start_refresh_all_projects,
)
from portal.tasks import enqueue_refresh
from portal.web import is_htmx

STOP_POLLING = 286


def _out_of_date_projects():
    company = current_user.company
    return db.session.scalars(
        select(Project)
        .where(Project.company_id == company.id, Project.archived.is_(False))
        .where(out_of_date_clause(company))
        .order_by(Project.number)
    ).all()


@bp.app_template_global()
def out_of_date_projects():
    """For the Refresh all projects section, wherever a page includes it."""
    return _out_of_date_projects()


@bp.app_template_global()
def running_refresh_batch():
    """Coming back to the page while a Refresh all projects runs shows its banner again."""
    batch_id = active_batch_id(db.session, current_user.company)
    if batch_id is None:
        return None
    return {"batch_id": batch_id, "jobs": batch_jobs(db.session, current_user.company, batch_id)}


@bp.route("/refresh-all-projects")
@company_tool_required(CompanyTool.COMPANY_ADMIN, Level.READ_ONLY)
def refresh_all():
    """Refresh all projects on a page of its own (the ERP Standard Cost Codes page includes it too)."""
    return render_template("company_admin/refresh_all.html")


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
        return make_response(
            render_template("company_admin/_refresh_all_status.html", batch_id=None, jobs=[]),
            STOP_POLLING,
        )
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
    body = render_template("company_admin/_refresh_all_status.html", batch_id=batch_id, jobs=jobs)
    if all(job.finished for job in jobs):
        return make_response(body, STOP_POLLING)
    return body
