"""The Sync tab (schedule, Sync Now, run history) and the actions of the Jobs tab's Ready to
Import, Ready to Export and Failed to Export rows."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.permissions import company_project_or_404, company_tool_required
from portal.erp_integrations import bp
from portal.erp_integrations.sync_forms import (
    ErpJobActionForm,
    LinkErpJobForm,
    LinkProjectForm,
    ProjectActionForm,
    RejectExportForm,
    ScheduleForm,
    SyncNowForm,
)
from portal.extensions import db
from portal.models import SYNC_SCHEDULES, CompanyTool, Level, Project
from portal.services import ServiceError, failed_exports
from portal.services import erp_job_links as links
from portal.services.sync import (
    RUN_STATES,
    STEP_LABELS,
    active_run,
    queue_sync,
    recent_runs,
    set_sync_schedule,
)
from portal.tasks import sync_company
from portal.web.errors import INCOMPLETE_FORM, error_response, refusal_response
from portal.web.htmx import is_htmx, poll_answer, render_page_or_partial
from portal.web.layout import page_time_zone, render_page

T = TypeVar("T")

# --- Sync tab -----------------------------------------------------------------------------------


def _runs_context() -> dict:
    company_id = current_user.company_id
    return {
        "company": current_user.company,
        "runs": recent_runs(db.session, company_id),
        "running": active_run(db.session, company_id),
        "run_states": RUN_STATES,
        "step_labels": STEP_LABELS,
        "time_zone": page_time_zone(),
    }


@bp.route("/sync")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
def sync():
    company = current_user.company
    schedule_form = ScheduleForm()
    return render_page(
        "erp_integrations/sync.html", schedule_form=schedule_form,
        sync_now_form=SyncNowForm(company=company.slug), schedules=SYNC_SCHEDULES,
        can_admin=current_user.tool_level(CompanyTool.ERP_INTEGRATIONS) >= Level.ADMIN,
        **_runs_context(),
    )


@bp.route("/sync/runs")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
def sync_runs():
    """The run history, polled while a run is queued or running."""
    context = _runs_context()
    html = render_template("erp_integrations/_sync_runs.html", **context)
    return poll_answer(html, done=not context["running"])


@bp.post("/sync/schedule")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.ADMIN)
def change_sync_schedule():
    form = ScheduleForm()
    if not form.validate_on_submit():
        return error_response(400, "Choose a sync schedule from the list.")
    try:
        company = set_sync_schedule(
            db.session, current_user.company_id, form.schedule.data, actor=current_user
        )
    except ServiceError as error:
        return refusal_response(error, back=url_for("erp_integrations.sync"))
    flash(f"Sync schedule set to {company.sync_schedule_label}.", "success")
    return redirect(url_for("erp_integrations.sync"), 303)


@bp.post("/sync/now")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.ADMIN)
def sync_now():
    form = SyncNowForm()
    if not form.validate_on_submit() or form.company.data != current_user.company.slug:
        return error_response(400, INCOMPLETE_FORM)
    try:
        run = queue_sync(db.session, current_user.company_id, actor=current_user)
    except ServiceError as error:
        return refusal_response(error, back=url_for("erp_integrations.sync"))
    sync_company(current_user.company_id, "manual", current_user.id, run.id)
    if is_htmx():
        db.session.expire_all()  # the task may have run already (immediate mode)
        return render_template("erp_integrations/_sync_runs.html", **_runs_context())
    flash(f"Sync run {run.run_number} started.", "success")
    return redirect(url_for("erp_integrations.sync"), 303)


# --- Ready to Import / Ready to Export actions ------------------------------------------------


def _jobs_page_url() -> str:
    """The Jobs page the action was taken on (same filter), never another site."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if referrer and parts.netloc == request.host and parts.path.startswith(url_for("erp_integrations.jobs")):
        return referrer
    return url_for("erp_integrations.jobs")


def _back():
    return redirect(_jobs_page_url(), 303)


def _refused(error: ServiceError):
    return refusal_response(error, back=_jobs_page_url())


def _project_row_action(project_id: int, service: Callable[..., T]) -> tuple[Project, T]:
    """A one-button action on a Jobs row: the project must be the user's company's (else 404)
    and the form must name the project the row showed (a stale row's button is refused, never
    applied to another project); then `service` runs, and its refusal is answered by its kind.
    Returns the project and what the service returned."""
    project = company_project_or_404(project_id)
    form = ProjectActionForm()
    if not form.validate_on_submit() or form.project_number.data != project.number:
        abort(make_response(error_response(400, INCOMPLETE_FORM)))
    try:
        return project, service(db.session, current_user.company_id, project.id, actor=current_user)
    except ServiceError as error:
        abort(make_response(_refused(error)))


@bp.post("/ready-to-import/add")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.STANDARD)
def add_erp_job():
    form = ErpJobActionForm()
    if not form.validate_on_submit():
        return error_response(400, INCOMPLETE_FORM)
    try:
        project = links.import_erp_job(
            db.session, current_user.company_id, form.erp_job_id.data, actor=current_user
        )
    except ServiceError as error:
        return _refused(error)
    flash(f"Project {project.label} added, linked to ERP job {project.erp_job_number}.", "success")
    return _back()


@bp.post("/ready-to-import/hide")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.STANDARD)
def hide_erp_job():
    form = ErpJobActionForm()
    if not form.validate_on_submit():
        return error_response(400, INCOMPLETE_FORM)
    try:
        job = links.hide_erp_job(
            db.session, current_user.company_id, form.erp_job_id.data, actor=current_user
        )
    except ServiceError as error:
        return _refused(error)
    flash(f"ERP job {job.number} hidden from Ready to Import.", "success")
    return _back()


@bp.post("/projects/<int:project_id>/accept-export")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.STANDARD)
def accept_export(project_id: int):
    _, project = _project_row_action(project_id, links.accept_project_for_export)
    flash(f"Project {project.label} accepted: the next sync creates its ERP job.", "success")
    return _back()


def _decision_page(project, form, action: str, status: int = 200):
    jobs = links.unlinked_erp_jobs(db.session, current_user.company_id) if action == "link" else []
    # The same template is the dialog (htmx) and the page.
    return render_page_or_partial(
        "erp_integrations/export_decision.html", "erp_integrations/export_decision.html",
        project=project, form=form, action=action, erp_jobs=jobs,
    ), status


@bp.get("/projects/<int:project_id>/reject-export")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.STANDARD)
def reject_export_form(project_id: int):
    return _decision_page(company_project_or_404(project_id), RejectExportForm(), "reject")


@bp.post("/projects/<int:project_id>/reject-export")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.STANDARD)
def reject_export(project_id: int):
    project = company_project_or_404(project_id)
    form = RejectExportForm()
    if not form.validate_on_submit():
        return _decision_page(project, form, "reject", 422)
    try:
        project = links.reject_project_for_export(
            db.session, current_user.company_id, project.id, actor=current_user, reason=form.reason.data
        )
    except ServiceError as error:
        return _refused(error)
    flash(f"Project {project.label} rejected and sent back: {project.erp_link_message}", "success")
    return _back()


@bp.get("/projects/<int:project_id>/link-erp-job")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.STANDARD)
def link_erp_job_form(project_id: int):
    return _decision_page(company_project_or_404(project_id), LinkErpJobForm(), "link")


@bp.post("/projects/<int:project_id>/link-erp-job")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.STANDARD)
def link_erp_job(project_id: int):
    project = company_project_or_404(project_id)
    form = LinkErpJobForm()
    if not form.validate_on_submit():
        return _decision_page(project, form, "link", 422)
    try:
        project = links.link_project_to_erp_job(
            db.session, current_user.company_id, project.id, form.erp_job_id.data, actor=current_user
        )
    except ServiceError as error:
        return _refused(error)
    flash(f"Project {project.label} linked to ERP job {project.erp_job_number}.", "success")
    return _back()


@bp.get("/ready-to-import/<int:erp_job_id>/link-project")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.STANDARD)
def link_project_form(erp_job_id: int):
    return _link_project_page(_company_erp_job_or_404(erp_job_id), LinkProjectForm())


@bp.post("/ready-to-import/<int:erp_job_id>/link-project")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.STANDARD)
def link_project(erp_job_id: int):
    """Ready to Import: the ERP job becomes the job of a project that has none yet."""
    job = _company_erp_job_or_404(erp_job_id)
    form = LinkProjectForm()
    if not form.validate_on_submit():
        return _link_project_page(job, form, 422)
    try:
        project = links.link_project_to_erp_job(
            db.session, current_user.company_id, form.project_id.data, job.id, actor=current_user
        )
    except ServiceError as error:
        return _refused(error)
    flash(f"ERP job {job.number} linked to project {project.label}.", "success")
    return _back()


def _company_erp_job_or_404(erp_job_id: int):
    try:
        return links.company_erp_job(db.session, current_user.company_id, erp_job_id)
    except ServiceError:
        abort(404)


def _link_project_page(job, form, status: int = 200):
    projects = links.linkable_projects(db.session, current_user.company_id)
    return render_page_or_partial(
        "erp_integrations/link_project.html", "erp_integrations/link_project.html",
        erp_job=job, form=form, projects=projects,
    ), status


# --- Failed to Export actions -----------------------------------------------------------------


def failed_rows_context(user, page) -> dict:
    """What the Failed to Export rows show beside each project: its causes, grouped, and
    whether Retry is open to the user or a sync run is already retrying."""
    requests = [failed_request for _project, failed_request in page.items if failed_request]
    return {
        "failure_causes": failed_exports.failure_causes(db.session, requests),
        "retry_refusal": failed_exports.retry_refusal(user),
        "running_sync": active_run(db.session, user.company_id),
    }


def _start_sync(run, message: str):
    sync_company(current_user.company_id, "manual", current_user.id, run.id)
    flash(f"{message} Sync run {run.run_number} started; the Sync tab shows how it goes.", "success")
    return _back()


@bp.post("/projects/<int:project_id>/retry-export")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.STANDARD)
def retry_export(project_id: int):
    """Retry: export the project's failed work again now (a sync run)."""
    project, run = _project_row_action(project_id, failed_exports.retry_failed_export)
    return _start_sync(run, f"Retrying the export of {project.label}.")


@bp.post("/projects/<int:project_id>/create-erp-job")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.STANDARD)
def create_erp_job(project_id: int):
    """Create ERP job: the project's job is missing in the ERP; a sync run creates it and
    exports the failed cost codes to it."""
    project, run = _project_row_action(project_id, failed_exports.create_missing_erp_job)
    return _start_sync(
        run,
        f"ERP job {project.erp_job_number} of {project.label} will be created, then its cost codes exported.",
    )
