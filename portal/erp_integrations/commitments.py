"""ERP Integrations → Commitments: contracts and change orders waiting to be exported."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.auth.permissions import company_tool_required, deny
from portal.erp_integrations import bp
from portal.erp_integrations.forms import ExportCommitmentForm
from portal.extensions import db
from portal.models import CompanyTool, Level
from portal.services import NotFound, ServiceError
from portal.services.commitments import (
    COST_CODES_FIRST,
    commitments_to_export_query,
    export_commitment_request,
    export_refusal,
    get_commitment,
)
from portal.web.errors import INCOMPLETE_FORM, error_response, refusal_response
from portal.web.htmx import is_htmx, render_page_or_partial
from portal.web.tables import paginate, search_text


def _commitments_context(search: str, focus_commitment: int | None = None) -> dict:
    query = commitments_to_export_query(current_user.company_id, search)
    return {
        "page": paginate(query, scalars=False),
        "search": search,
        "refusal": export_refusal(current_user),
        # Why a row's Export is disabled while its project's cost code update waits (rule 5).
        "cost_codes_first": COST_CODES_FIRST,
        # After Export the table is replaced: focus goes to the exported row's new state.
        "focus_commitment": focus_commitment,
    }


def _commitments_url() -> str:
    return url_for("erp_integrations.commitments", q=search_text() or None)


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
        return refusal_response(error, back=_commitments_url())
    message = (
        f"{commitment.kind_label} {commitment.number} of {commitment.project.label} will be exported "
        "at the next data sync, after the project's cost codes."
    )
    if not is_htmx():
        flash(message, "success")
        return redirect(_commitments_url())
    return render_template(
        "erp_integrations/_commitments_response.html",
        **_commitments_context(search_text(), focus_commitment=commitment.id), message=message,
    )
