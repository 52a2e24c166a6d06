"""ERP Integrations → Commitments: contracts and change orders waiting to be exported."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from portal.auth.permissions import company_tool_required, deny
from portal.erp_integrations import bp
from portal.erp_integrations.forms import ExportCommitmentForm
from portal.erp_integrations.routes import INCOMPLETE_FORM, search_text, service_error_response
from portal.extensions import db
from portal.models import Commitment, CommitmentStatus, CompanyTool, Level, Project
from portal.services import NotFound, ServiceError
from portal.services.commitments import (
    export_commitment_request,
    export_refusal,
    get_commitment,
    update_waiting,
)
from portal.web import error_response, is_htmx, paginate, render_page_or_partial

LISTED = (CommitmentStatus.READY, CommitmentStatus.EXPORT_REQUESTED, CommitmentStatus.FAILED)


def _commitments_context(search: str) -> dict:
    query = (
        select(Commitment, update_waiting(Commitment.project_id).label("update_waiting"))
        .join(Commitment.project)
        .options(contains_eager(Commitment.project))
        .where(Commitment.company_id == current_user.company_id, Commitment.status.in_(LISTED))
    )
    if search:
        pattern = f"%{search}%"
        query = query.where(
            or_(
                Project.number.ilike(pattern), Project.name.ilike(pattern),
                Commitment.number.ilike(pattern), Commitment.title.ilike(pattern),
            )
        )
    query = query.order_by(Project.number, Commitment.kind.desc(), Commitment.number)
    return {
        "page": paginate(query, scalars=False),
        "search": search,
        "refusal": export_refusal(current_user),
    }


@bp.route("/commitments")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
def commitments():
    return render_page_or_partial(
        "erp_integrations/commitments.html", "erp_integrations/_commitments_table.html",
        **_commitments_context(search_text()),
    )


@bp.route("/commitments/<int:commitment_id>/export", methods=["POST"])
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
def export_commitment(commitment_id: int):
    try:
        commitment = get_commitment(db.session, commitment_id, company_id=current_user.company_id)
    except NotFound:
        abort(404)
    refusal = export_refusal(current_user)
    if refusal:
        deny(refusal + ".")
    form = ExportCommitmentForm()
    if not form.validate_on_submit() or form.number.data != commitment.number:
        return error_response(400, INCOMPLETE_FORM)
    try:
        export_commitment_request(db.session, commitment.id, current_user, company_id=current_user.company_id)
    except ServiceError as error:
        return service_error_response(error)
    message = (
        f"{commitment.kind_label} {commitment.number} of {commitment.project.label} will be exported "
        "at the next data sync, after the project's cost codes."
    )
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("erp_integrations.commitments", q=search_text() or None))
    return render_template(
        "erp_integrations/_commitments_response.html", **_commitments_context(search_text()), message=message
    )
