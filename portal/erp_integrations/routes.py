"""The company ERP Integrations tool (page title "ERP Integration"): Jobs and Commitments.

Jobs → Ready to Update is where an accounting approver reviews a project's requested cost code
updates (View Requested Updates, a read-only window) and approves (Update) or sends them back
(Reject). The services enforce who may; the page only shows it.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.permissions import company_tool_required, deny
from portal.erp.connectors import export_note
from portal.erp_integrations import bp
from portal.erp_integrations.forms import (
    NOTHING_TICKED,
    ApproveSeveralForm,
    RejectForm,
    UpdateForm,
    ticked_requests,
)
from portal.erp_integrations.jobs import (
    DEFAULT_FILTER,
    FILTER_KEYS,
    JOB_FILTERS,
    approver_work,
    counts_query,
    rows_query,
)
from portal.erp_integrations.live import current_jobs_etag
from portal.erp_integrations.sync_routes import failed_rows_context
from portal.extensions import db
from portal.models import CompanyTool, CostCodeUpdateRequest, Level, RequestStatus
from portal.services import NotFound, PermissionDenied, ServiceError
from portal.services.approvals import (
    AlreadyDecided,
    approval_refusal,
    approve_requested_updates,
    approve_several,
    decided_message,
    get_request,
    next_sync_words,
    own_request_refusal,
    reject_requested_updates,
    requested_update_codes,
)
from portal.services.project_cost_codes import request_line_count
from portal.web.errors import INCOMPLETE_FORM, error_response, refusal_response
from portal.web.htmx import is_htmx, render_page_or_partial
from portal.web.layout import page_layout, page_time_zone, render_page
from portal.web.tables import paginate, search_text


def _requested_filter() -> str:
    key = request.args.get("filter", DEFAULT_FILTER)
    return key if key in FILTER_KEYS else DEFAULT_FILTER


def _jobs_context(filter_key: str, search: str, etag: str | None = None) -> dict:
    # The user itself, not the proxy: it is asked once per row.
    user = current_user._get_current_object()
    company = {"company_id": user.company_id}
    counts = db.session.execute(counts_query(), company).mappings().one()
    query, scalars = rows_query(filter_key, search)
    # Without a search the filter's count is the table's row count.
    page = paginate(query, scalars=scalars, total=None if search else counts[filter_key], params=company)
    refusal = approval_refusal(user)
    live_page = page.page if page.page > 1 else None
    return {
        # The open tab asks this address whether anything changed since it was drawn (issue 18).
        "live_url": url_for(
            "erp_integrations.jobs_live", filter=filter_key, q=search or None, page=live_page
        ),
        "live_etag": etag or current_jobs_etag(filter_key, search, page.page),
        "filters": JOB_FILTERS,
        "filter_key": filter_key,
        "filter_label": dict(JOB_FILTERS)[filter_key],
        "counts": counts,
        "search": search,
        "page": page,
        "refusal": refusal,
        # Ready to Update, for a user who may decide: why not this row (a requester on their
        # own request), asked here once per row rather than from the template.
        "row_refusals": (
            {row.id: own_request_refusal(user, row) for row in page.items}
            if filter_key == "ready_to_update" and refusal is None
            else {}
        ),
        # Approved rows say when the next sync exports them; those who may sync can start it.
        "company": user.company,
        "next_sync": next_sync_words(user.company),
        "can_sync": user.tool_level(CompanyTool.ERP_INTEGRATIONS) >= Level.ADMIN,
        # The header badge: the approver's work, counted above already.
        "layout": page_layout(waiting_updates=approver_work(counts)),
        **(failed_rows_context(user, page) if filter_key == "failed_to_export" else {}),
        # Where approved codes go for this company's ERP, when not simply into it (Sage 300 CRE
        # takes none from outside).
        "export_note": (
            export_note(user.company, current_app.config) if filter_key == "ready_to_update" else None
        ),
    }


def _company_request_or_404(request_id: int) -> CostCodeUpdateRequest:
    try:
        return get_request(db.session, request_id, company_id=current_user.company_id)
    except NotFound:
        abort(404)


def _require_approver(update_request: CostCodeUpdateRequest) -> None:
    refusal = approval_refusal(current_user, update_request)
    if refusal:
        deny(refusal + ".")


def _jobs_url() -> str:
    """Ready to Update, with the search the decision was taken in."""
    return url_for("erp_integrations.jobs", filter="ready_to_update", q=search_text() or None)


def _after_decision(message: str, close_modal: bool = False):
    """The Ready to Update panel without the request, the header badge and the message."""
    if not is_htmx():
        flash(message, "success")
        return redirect(_jobs_url())
    return render_template(
        "erp_integrations/_decision_response.html",
        **_jobs_context("ready_to_update", search_text()),
        message=message,
        close_modal=close_modal,
    )


@bp.route("/jobs")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
def jobs():
    context = _jobs_context(_requested_filter(), search_text())
    # Search and paging replace only the table, so the search box keeps focus while typing.
    if is_htmx() and request.headers.get("HX-Target") == "jobs-table":
        return render_template("erp_integrations/_jobs_table.html", **context)
    return render_page_or_partial(
        "erp_integrations/jobs.html", "erp_integrations/_jobs_panel.html", **context
    )


@bp.route("/requests/<int:request_id>/requested-updates")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
def requested_updates(request_id: int):
    update_request = _company_request_or_404(request_id)
    codes, line_count = requested_update_codes(db.session, update_request.id)
    cost_types = current_user.company.cost_types
    return render_page_or_partial(
        "erp_integrations/requested_updates.html",
        "erp_integrations/_cost_codes_for_update.html",
        update_request=update_request,
        line_count=line_count,
        codes=codes,
        cost_types=cost_types,
    )


@bp.route("/requests/<int:request_id>/update", methods=["POST"])
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
def approve_request(request_id: int):
    """Update: approve the request for export at the next data sync."""
    update_request = _company_request_or_404(request_id)
    _require_approver(update_request)
    form = UpdateForm()
    if not form.validate_on_submit():
        return error_response(400, INCOMPLETE_FORM)
    try:
        result = approve_requested_updates(
            db.session, update_request.id, current_user, company_id=current_user.company_id,
            seen_lines=form.seen_lines.data,
        )
    except ServiceError as error:
        return refusal_response(error, back=_jobs_url())
    return _after_decision(result.message)


@bp.route("/requests/update", methods=["POST"])
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
def approve_several_requests():
    """Update with several Ready to Update rows ticked: each request approved on its own."""
    refusal = approval_refusal(current_user)
    if refusal:
        deny(refusal + ".")
    form = ApproveSeveralForm()
    if not form.validate_on_submit():
        return error_response(400, INCOMPLETE_FORM)
    try:
        choices = ticked_requests(request.form.getlist("request"))
    except ValueError as error:
        return error_response(400, str(error))
    if not choices:
        return refusal_response(ServiceError(NOTHING_TICKED), back=_jobs_url())
    results = approve_several(db.session, choices, current_user, company_id=current_user.company_id)
    approved = sum(result.approved for result in results)
    summary = f"Approved {approved} of {len(results)} ticked requests."
    if not is_htmx():
        flash(summary, "success" if approved == len(results) else "error")
        for result in results:
            flash(f"{result.project_label}: {result.message}", "success" if result.approved else "error")
        return redirect(_jobs_url())
    return render_template(
        "erp_integrations/_decision_response.html",
        **_jobs_context("ready_to_update", search_text()),
        message=summary,
        results=results,
    )


def _reject_context(update_request: CostCodeUpdateRequest, form: RejectForm, error: str | None) -> dict:
    return {
        "update_request": update_request,
        "line_count": request_line_count(db.session, update_request),
        "form": form,
        "error": error,
        "search": search_text(),
        "time_zone": page_time_zone(),
    }


def _waiting_request_or_refusal(request_id: int) -> CostCodeUpdateRequest:
    update_request = _company_request_or_404(request_id)
    _require_approver(update_request)
    return update_request


@bp.route("/requests/<int:request_id>/reject")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
def reject_dialog(request_id: int):
    """Reject asks for a reason: a small dialog (or a page without htmx)."""
    update_request = _waiting_request_or_refusal(request_id)
    if update_request.status != RequestStatus.REQUESTED:
        return refusal_response(AlreadyDecided(decided_message(update_request)), back=_jobs_url())
    context = _reject_context(update_request, RejectForm(), None)
    if is_htmx():
        return render_template("erp_integrations/_reject_dialog.html", in_dialog=True, **context)
    return render_page("erp_integrations/reject.html", in_dialog=False, **context)


@bp.route("/requests/<int:request_id>/reject", methods=["POST"])
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
def reject(request_id: int):
    update_request = _waiting_request_or_refusal(request_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            reject_requested_updates(
                db.session, update_request.id, current_user, form.reason.data,
                company_id=current_user.company_id,
            )
        except (AlreadyDecided, NotFound, PermissionDenied) as refusal:
            return refusal_response(refusal, back=_jobs_url())
        except ServiceError as refusal:
            error = str(refusal)
        else:
            return _after_decision(
                f"Rejected: {update_request.project.label} can change its cost codes again and "
                "sees your reason.",
                close_modal=True,
            )
    else:
        error = next(iter(form.reason.errors), INCOMPLETE_FORM)
    context = _reject_context(update_request, form, error)
    if is_htmx():
        # The refused reason is shown in the open dialog, beside the text the user wrote.
        return (
            render_template("erp_integrations/_reject_form.html", in_dialog=True, **context),
            200,
            {"HX-Retarget": "#reject-form", "HX-Reswap": "outerHTML"},
        )
    return render_page("erp_integrations/reject.html", in_dialog=False, **context), 422
