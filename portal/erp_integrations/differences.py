"""ERP Integrations → Differences with ERP: where the projects' cost codes and their ERP jobs'
disagree (issue 18), filterable by kind, searchable, paged, downloadable; from a row, a project
Admin sends the project's code to the ERP (for approval) or adds the ERP's code to the project."""
from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from portal.auth.permissions import company_tool_required, deny
from portal.erp_integrations import bp
from portal.extensions import db
from portal.models import CompanyTool, DifferenceKind, Level, Project, utcnow
from portal.services import NotFound, ServiceError
from portal.services.erp_differences import actions, listing
from portal.web.errors import INCOMPLETE_FORM, error_response, refusal_response
from portal.web.htmx import is_htmx, render_page_or_partial
from portal.web.layout import page_time_zone
from portal.web.tables import paginate, search_text

READ_ONLY = company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
SEE_REFUSAL = (
    f"You need {Level.READ_ONLY.label} on the {CompanyTool.ERP_INTEGRATIONS.label} tool, or on a "
    "project's Admin tool to see that project's differences with ERP"
)


def _sees_company(user) -> bool:
    return user.tool_level(CompanyTool.ERP_INTEGRATIONS) >= Level.READ_ONLY


def _require_sight(project: Project | None) -> None:
    """The whole list needs ERP Integrations; one project's (the Cost Code page's link) is open
    to whoever may see that project's Admin tool."""
    if _sees_company(current_user):
        return
    if project is None or current_user.project_level(project.id) < Level.READ_ONLY:
        deny(SEE_REFUSAL + ".")


class DifferenceActionForm(FlaskForm):
    """Send to ERP, Add to project, Compare now: one button each; the form gives the CSRF check."""


def _kind() -> str:
    key = request.args.get("filter", listing.ALL)
    return key if key in listing.FILTER_KEYS else listing.ALL


def _project_filter() -> Project | None:
    """?project= from the Cost Code page's link; another company's project is a 404 (rule 9)."""
    value = request.args.get("project", "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        abort(404)
    project = db.session.get(Project, int(value))
    if project is None or project.company_id != current_user.company_id:
        abort(404)
    return project


def _row_actions(user, rows, code_types) -> dict[int, dict]:
    """Per row: which buttons it has, and why they are disabled for this user."""
    refusals: dict[int, str | None] = {}
    answers = {}
    for row in rows:
        if row.project_id not in refusals:
            refusals[row.project_id] = actions.action_refusal(user, row.project_id)
        types = code_types.get((row.project_id, row.code))
        project_types = set(types.types) if types else set()
        not_waiting = project_types - set(types.waiting) if types else set()
        on_job = set(actions.erp_types(row))
        answers[row.id] = {
            "send": row.kind == DifferenceKind.MISSING_IN_ERP
            or (row.kind == DifferenceKind.COST_TYPES and bool(not_waiting - on_job)),
            "add": row.kind == DifferenceKind.MISSING_IN_PROJECT
            or (row.kind == DifferenceKind.COST_TYPES and bool(on_job - project_types)),
            "refusal": refusals[row.project_id],
        }
    return answers


def _context(message: str | None = None) -> dict:
    user = current_user._get_current_object()
    kind, search, project = _kind(), search_text(), _project_filter()
    _require_sight(project)
    company_id = user.company_id
    counts = listing.difference_counts(db.session, company_id, project.id if project else None)
    query = listing.differences_query(company_id, kind, search, project.id if project else None)
    page = paginate(query, total=None if search else counts[kind])
    code_types = listing.project_code_types(db.session, page.items)
    comparison = listing.comparison_of(db.session, company_id)
    return {
        "filters": listing.FILTERS, "filter_key": kind, "filter_label": dict(listing.FILTERS)[kind],
        "kind_notes": listing.KIND_NOTES, "counts": counts, "search": search, "page": page,
        "project": project, "comparison": comparison, "code_types": code_types,
        "erp_types_text": listing.erp_types_text, "row_actions": _row_actions(user, page.items, code_types),
        "company": user.company, "sees_company": _sees_company(user),
        "may_compare": user.tool_level(CompanyTool.ERP_INTEGRATIONS) >= Level.ADMIN,
        "compare_refusal": actions.COMPARE_REFUSAL, "message": message,
    }


def _list_url() -> str:
    args = {key: request.args.get(key) for key in ("filter", "q", "project", "page") if request.args.get(key)}
    return url_for("erp_integrations.differences", **args)


@bp.route("/differences")
@login_required
def differences():
    context = _context()
    # Search and paging replace only the table, so the search box keeps focus while typing.
    if is_htmx() and request.headers.get("HX-Target") == "differences-table":
        return render_template(
            "erp_integrations/_differences_table.html", time_zone=page_time_zone(), **context
        )
    return render_page_or_partial(
        "erp_integrations/differences.html", "erp_integrations/_differences_panel.html", **context
    )


@bp.route("/differences.csv")
@login_required
def differences_csv():
    project = _project_filter()
    _require_sight(project)
    rows = listing.differences_csv(
        db.session, current_user.company_id, _kind(), search_text(), project.id if project else None
    )
    filename = f"differences-with-erp-{current_user.company.slug}-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(rows), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _answer(message: str):
    if not is_htmx():
        flash(message, "success")
        return redirect(_list_url())
    return render_template(
        "erp_integrations/_differences_response.html", time_zone=page_time_zone(), **_context(message=message)
    )


@bp.route("/differences/compare", methods=["POST"])
@READ_ONLY
def compare_differences():
    if not DifferenceActionForm().validate_on_submit():
        return error_response(400, INCOMPLETE_FORM)
    try:
        comparison = actions.compare_now(db.session, current_user, current_app.config)
    except ServiceError as error:
        return refusal_response(error, back=_list_url())
    if comparison.failure:
        message = f"The comparison could not read the ERP: {comparison.failure}"
    elif comparison.unreadable:
        message = comparison.unreadable
    else:
        jobs = comparison.jobs_compared
        message = f"Compared {jobs} ERP job{'s' if jobs != 1 else ''} with their projects."
    return _answer(message)


def _act(difference_id: int, action):
    try:
        actions.get_difference(db.session, difference_id, company_id=current_user.company_id)
    except NotFound:
        abort(404)
    if not DifferenceActionForm().validate_on_submit():
        return error_response(400, INCOMPLETE_FORM)
    try:
        message = action(db.session, difference_id, current_user._get_current_object())
    except ServiceError as error:
        return refusal_response(error, back=_list_url())
    return _answer(message)


@bp.route("/differences/<int:difference_id>/send", methods=["POST"])
@login_required
def send_difference(difference_id: int):
    return _act(difference_id, actions.send_difference_to_erp)


@bp.route("/differences/<int:difference_id>/add", methods=["POST"])
@login_required
def add_difference(difference_id: int):
    return _act(difference_id, actions.add_difference_to_project)
