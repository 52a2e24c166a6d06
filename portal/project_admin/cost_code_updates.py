"""The project side of cost code updates: Cost Codes from Company, cost type boxes, Send to ERP."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from portal.auth.permissions import project_tool_required
from portal.extensions import db
from portal.models import Level, Project, ProjectCostCode
from portal.project_admin import bp
from portal.project_admin.forms import (
    CODE_COST_TYPE_PREFIX,
    CODE_FIELD,
    FormError,
    chosen_cost_code,
    company_code_selections,
    cost_type_choice,
)
from portal.services import ServiceError
from portal.services.company_code_selection import preview_selection
from portal.services.cost_code_page import update_request_state
from portal.services.project_code_undo import remove_unsent_code, set_code_active
from portal.services.project_cost_codes import (
    add_company_codes_to_project,
    add_cost_types_to_code,
    company_codes_query,
    group_by_division,
    remove_unsent_cost_type,
    send_updates_to_erp,
)
from portal.web.errors import error_response, refusal_response
from portal.web.htmx import is_htmx, render_page_or_partial
from portal.web.layout import page_time_zone
from portal.web.tables import paginate, requested_page, search_text

COST_CODE_PATH = "/<int:project_id>/admin/work-breakdown-structure/segments/cost-code"


# The list's own fields: the search and page shown, and the page asked for by Previous / Next.
LIST_FIELDS = ("list_q", "list_page")


def _company_codes_page(project: Project, posted: MultiDict, status: int = 200):
    """The list at the search and page in `posted` (or the URL's), with the codes and cost types
    ticked in `posted` kept: ticked on this page, hidden fields for the rest, and a summary of
    what Add would add. Raises FormError / ServiceError for a selection that is not one."""
    search = search_text(posted, "list_q") if "list_q" in posted else search_text()
    # Paged: a company list can hold tens of thousands of codes.
    page = paginate(
        company_codes_query(project, search),
        page=requested_page(posted["list_page"]) if "list_page" in posted else None,
    )
    selections = company_code_selections(posted)
    preview = preview_selection(db.session, project, selections)
    listed = {code.id for code in page.items}
    body = render_page_or_partial(
        "project_admin/cost_codes_from_company.html", "project_admin/_company_code_list.html",
        project=project, search=search, posted=posted, page=page,
        divisions=group_by_division(page.items), cost_types=project.company.cost_types,
        preview=preview, kept_elsewhere=sorted(set(selections) - listed),
        summary_out_of_band=is_htmx(),
    )
    return body, status


@bp.route(f"{COST_CODE_PATH}/from-company/")
@project_tool_required(Level.ADMIN)
def cost_codes_from_company(project):
    return _company_codes_page(project, MultiDict())


@bp.route(f"{COST_CODE_PATH}/from-company/", methods=["POST"])
@project_tool_required(Level.ADMIN)
def add_cost_codes_from_company(project):
    try:
        result = add_company_codes_to_project(
            db.session, project, current_user, company_code_selections(request.form)
        )
    except (FormError, ServiceError) as error:
        flash(str(error), "error")
        try:
            return _company_codes_page(project, request.form, status=422)
        except (FormError, ServiceError):  # a tampered selection: the list without it
            kept = MultiDict((key, request.form[key]) for key in LIST_FIELDS if key in request.form)
            return _company_codes_page(project, kept, status=422)
    if result.added:
        count = len(result.added)
        flash(f"Added {count} cost code{'s' if count != 1 else ''}: {', '.join(result.added)}. "
              "Send to ERP when you are ready for accounting to approve them.", "success")
    if result.skipped:
        flash(f"Skipped (already on the project): {', '.join(result.skipped)}.", "warning")
    if result.refused:
        flash(f"Not added: {'; '.join(result.refused)}.", "error")
    return redirect(url_for("project_admin.cost_codes", project_id=project.id))


@bp.route(f"{COST_CODE_PATH}/from-company/browse", methods=["POST"])
@project_tool_required(Level.ADMIN)
def browse_cost_codes_from_company(project):
    """Search, Previous / Next, a tick and Clear selection on Cost Codes from Company. The form
    carries the selection, so it survives paging and searching with or without JavaScript;
    nothing is stored until Add."""
    posted = request.form.copy()
    if posted.get("clear") == "yes":
        for name in list(posted):
            if name == CODE_FIELD or name.startswith(CODE_COST_TYPE_PREFIX):
                posted.poplist(name)
    if "go_to_page" in posted:
        posted["list_page"] = posted["go_to_page"]
    try:
        return _company_codes_page(project, posted)
    except (FormError, ServiceError) as error:
        return error_response(422, str(error))


@bp.route(f"{COST_CODE_PATH}/send-to-erp", methods=["POST"])
@project_tool_required(Level.ADMIN)
def send_to_erp(project):
    back = url_for("project_admin.cost_codes", project_id=project.id)
    try:
        update_request = send_updates_to_erp(db.session, project, current_user)
    except ServiceError as error:
        return refusal_response(error, back=back)
    lines = len(update_request.lines)
    waiting = "1 line waits" if lines == 1 else f"{lines} lines wait"
    flash(f"Sent to ERP: {waiting} for approval in ERP Integrations.", "success")
    return redirect(back)


@bp.route(f"{COST_CODE_PATH}/cost-types", methods=["POST"])
@project_tool_required(Level.ADMIN)
def assign_cost_type(project):
    """A cost type box of the Cost Code table: ticking adds the cost type, unticking removes an
    unsent one. Answers the code's row and the refreshed actions (Send to ERP may come alive)."""
    back = url_for("project_admin.cost_codes", project_id=project.id)
    try:
        cost_code_id, cost_type_id, ticked = cost_type_choice(request.form)
    except FormError as error:
        return error_response(422, str(error))
    try:
        if ticked:
            add_cost_types_to_code(db.session, project, current_user, cost_code_id, {cost_type_id})
        else:
            remove_unsent_cost_type(db.session, project, current_user, cost_code_id, cost_type_id)
    except ServiceError as error:
        return refusal_response(error, back=back)
    if not is_htmx():
        return redirect(back)
    return _row_changed(project, cost_code_id)


def _row_changed(project: Project, cost_code_id: int):
    """A row's answer: the code's row, and Send to ERP's actions (which depend on every row)."""
    admin_level = current_user.project_level(project.id)
    return render_template(
        "project_admin/_cost_code_row_changed.html", project=project,
        cost_code=db.session.get(ProjectCostCode, cost_code_id),
        cost_types=project.company.cost_types, admin_level=admin_level,
        update_state=update_request_state(db.session, project, admin_level),
        time_zone=page_time_zone(),
    )


def _back_to_listing(project: Project) -> str:
    """The Cost Code page at the search and page the row was on (they ride in the form)."""
    args = {key: request.form[key] for key in ("q", "page") if request.form.get(key)}
    return url_for("project_admin.cost_codes", project_id=project.id, **args)


@bp.route(f"{COST_CODE_PATH}/remove", methods=["POST"])
@project_tool_required(Level.ADMIN)
def remove_cost_code(project):
    """Remove, on a row of a code that was never sent: the code goes, with its cost types."""
    back = _back_to_listing(project)
    try:
        label = remove_unsent_code(db.session, project, current_user, chosen_cost_code(request.form))
    except FormError as error:
        return error_response(422, str(error))
    except ServiceError as error:
        return refusal_response(error, back=back)
    flash(f"Removed {label} from {project.label}. It had never been sent to the ERP; add it "
          "again from Cost Codes from Company if you need it.", "success")
    return redirect(back)


@bp.route(f"{COST_CODE_PATH}/active", methods=["POST"])
@project_tool_required(Level.ADMIN)
def set_cost_code_active(project):
    """Make inactive / Make active, on a row of a code the ERP job has: only the portal changes."""
    back = _back_to_listing(project)
    try:
        cost_code_id = chosen_cost_code(request.form)
    except FormError as error:
        return error_response(422, str(error))
    active = request.form.get("active") == "yes"
    try:
        cost_code = set_code_active(db.session, project, current_user, cost_code_id, active)
    except ServiceError as error:
        return refusal_response(error, back=back)
    if is_htmx():
        return _row_changed(project, cost_code.id)
    flash(f"{cost_code.code} {cost_code.description} is {'active' if active else 'inactive'} on "
          f"{project.label}{'' if active else '; the ERP job keeps it'}.", "success")
    return redirect(back)
