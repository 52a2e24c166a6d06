"""Company Admin: Directory, ERP Standard Cost Codes, Audit Log."""
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
from flask_login import current_user

from portal.auth.forms import EmptyForm
from portal.auth.permissions import company_tool_required
from portal.company_admin import bp
from portal.company_admin.forms import (
    AddUserForm,
    ArchiveForm,
    CostCodeMaskForm,
    PrivilegeForm,
    ProjectLevelsForm,
    Sage100FileTypeForm,
    ToolLevelsForm,
    UserStatusForm,
    audit_filter_from,
)
from portal.erp.sage100_import import FILE_TYPES
from portal.extensions import db
from portal.models import CompanyTool, Level, utcnow
from portal.services import NotFound, ServiceError, code_format, company_code_list
from portal.services import audit_log as audit_log_service
from portal.services import directory as directory_service
from portal.services.audit_sentences import action_sentence, describe_details
from portal.services.refresh_overview import refresh_all_overview
from portal.web.errors import error_response, refusal_response
from portal.web.htmx import is_htmx, render_page_or_partial
from portal.web.input import carried_query_args, safe_return_path
from portal.web.layout import render_page
from portal.web.tables import paginate, search_text

READ_ONLY = company_tool_required(CompanyTool.COMPANY_ADMIN, Level.READ_ONLY)
ADMIN = company_tool_required(CompanyTool.COMPANY_ADMIN, Level.ADMIN)


def _actor():
    return current_user._get_current_object()


def _company_user_or_404(user_id: int):
    try:
        return directory_service.company_user(db.session, current_user.company_id, user_id)
    except NotFound:
        abort(404)


def _apply(change, back: str):
    """Run one directory change and go back; a refusal is answered by its kind (web.errors)."""
    try:
        message = change()
    except ServiceError as error:
        return refusal_response(error, back=back)
    flash(*message)
    return redirect(back)


def _form_errors(form) -> str:
    """The form's errors as one sentence naming each field, for a flash message."""
    parts = []
    for name, errors in form.errors.items():
        field = form._fields.get(name) if name else None
        label = field.label.text if field is not None else "Form"
        parts.append(f"{label}: {'; '.join(errors)}")
    return " ".join(parts)


# --- Directory ------------------------------------------------------------------------------------

@bp.route("/directory")
@READ_ONLY
def directory():
    search = search_text()
    page = paginate(directory_service.directory_query(current_user.company_id, search))
    return render_page_or_partial(
        "company_admin/directory.html", "company_admin/_directory_table.html",
        page=page, search=search,
    )


@bp.get("/directory/new")
@ADMIN
def new_user():
    return render_page("company_admin/add_user.html", form=AddUserForm())


@bp.post("/directory/new")
@ADMIN
def add_user():
    form = AddUserForm()
    if form.validate_on_submit():
        try:
            user = directory_service.add_user(
                db.session, actor=_actor(), email=form.email.data, name=form.name.data,
                password=form.password.data,
                erp_integrations_level=Level(form.erp_integrations_level.data),
                company_admin_level=Level(form.company_admin_level.data),
                min_password_length=current_app.config["MIN_PASSWORD_LENGTH"],
                password_hash_method=current_app.config["PASSWORD_HASH_METHOD"],
            )
        except ServiceError as error:
            form.form_errors.append(str(error))
        else:
            flash(f"Added {user.name} ({user.email}) to the directory.", "success")
            return redirect(url_for("company_admin.user", user_id=user.id))
    return render_page("company_admin/add_user.html", form=form), 422


@bp.route("/directory/<int:user_id>")
@READ_ONLY
def user(user_id: int):
    person = _company_user_or_404(user_id)
    levels_form = ToolLevelsForm(
        formdata=None, erp_integrations_level=person.erp_integrations_level,
        company_admin_level=person.company_admin_level,
    )
    return render_page(
        "company_admin/user.html", person=person, levels_form=levels_form,
        projects=directory_service.company_projects(db.session, current_user.company_id),
        is_admin=current_user.tool_level(CompanyTool.COMPANY_ADMIN) >= Level.ADMIN,
        own_access_refusal=directory_service.OWN_ACCESS_REFUSAL,
        password_reset_refusal=directory_service.password_reset_refusal(current_user, person),
    )


@bp.post("/directory/<int:user_id>/tool-levels")
@ADMIN
def set_tool_levels(user_id: int):
    person = _company_user_or_404(user_id)
    back = url_for("company_admin.user", user_id=person.id)
    form = ToolLevelsForm()
    if not form.validate_on_submit():
        flash(f"Nothing was changed for {person.name}. {_form_errors(form)}", "error")
        return redirect(back)

    def change():
        changes = directory_service.set_tool_levels(
            db.session, actor=_actor(), user_id=person.id,
            levels={CompanyTool.ERP_INTEGRATIONS: Level(form.erp_integrations_level.data),
                    CompanyTool.COMPANY_ADMIN: Level(form.company_admin_level.data)},
        )
        if not changes:
            return f"{person.name}'s tool levels were already as chosen; nothing changed.", "info"
        return f"Saved for {person.name}: {'; '.join(changes)}.", "success"

    return _apply(change, back)


@bp.post("/directory/<int:user_id>/project-levels")
@ADMIN
def set_project_levels(user_id: int):
    person = _company_user_or_404(user_id)
    back = url_for("company_admin.user", user_id=person.id)
    form = ProjectLevelsForm()
    try:
        if not form.validate_on_submit():
            raise ValueError(_form_errors(form))
        levels = form.project_levels(request.form)
    except ValueError as error:
        flash(f"Nothing was changed for {person.name}. {error}", "error")
        return redirect(back)

    def change():
        changes = directory_service.set_project_levels(
            db.session, actor=_actor(), user_id=person.id, levels=levels
        )
        if not changes:
            return f"{person.name}'s project levels were already as chosen; nothing changed.", "info"
        return f"Saved for {person.name}: {'; '.join(changes)}.", "success"

    return _apply(change, back)


@bp.post("/directory/<int:user_id>/can-push-to-accounting")
@ADMIN
def set_can_push_to_accounting(user_id: int):
    person = _company_user_or_404(user_id)
    back = url_for("company_admin.user", user_id=person.id)
    form = PrivilegeForm()
    if not form.validate_on_submit():
        flash(f"Nothing was changed for {person.name}: say whether to grant or revoke.", "error")
        return redirect(back)
    granted = form.granted.data == "yes"

    def change():
        changed = directory_service.set_can_push_to_accounting(
            db.session, actor=_actor(), user_id=person.id, granted=granted
        )
        privilege = directory_service.CAN_PUSH_TO_ACCOUNTING
        if not changed:
            state = "already holds" if granted else "already does not hold"
            return f"{person.name} {state} {privilege}; nothing changed.", "info"
        if granted:
            return f"Granted {privilege} to {person.name}.", "success"
        return f"Revoked {privilege} from {person.name}.", "success"

    return _apply(change, back)


@bp.post("/directory/<int:user_id>/status")
@ADMIN
def set_user_active(user_id: int):
    person = _company_user_or_404(user_id)
    back = url_for("company_admin.user", user_id=person.id)
    form = UserStatusForm()
    if not form.validate_on_submit():
        flash(f"Nothing was changed for {person.name}: say whether to deactivate or reactivate.", "error")
        return redirect(back)
    active = form.active.data == "yes"

    def change():
        changed = directory_service.set_user_active(
            db.session, actor=_actor(), user_id=person.id, active=active
        )
        if not changed:
            return f"{person.name} was already {'active' if active else 'deactivated'}.", "info"
        if active:
            return f"Reactivated {person.name}; they can log in again.", "success"
        return f"Deactivated {person.name}; their open sessions have ended.", "success"

    return _apply(change, back)


@bp.post("/directory/<int:user_id>/password-reset")
@ADMIN
def reset_password(user_id: int):
    person = _company_user_or_404(user_id)
    back = url_for("company_admin.user", user_id=person.id)
    if not EmptyForm().validate_on_submit():
        flash(f"Nothing was changed for {person.name}. Reload the page and try again.", "error")
        return redirect(back)
    try:
        temporary_password = directory_service.reset_password(
            db.session, actor=_actor(), user_id=person.id,
            password_hash_method=current_app.config["PASSWORD_HASH_METHOD"],
        )
    except ServiceError as error:
        return refusal_response(error, back=back)
    # Shown on this answer only (never in a flash, which the session cookie would carry).
    return render_page(
        "company_admin/password_reset.html", person=directory_service.company_user(
            db.session, current_user.company_id, user_id
        ), temporary_password=temporary_password,
    )


# --- ERP Standard Cost Codes ------------------------------------------------------------------------

@bp.route("/standard-cost-codes")
@READ_ONLY
def standard_cost_codes():
    search = search_text()
    divisions = company_code_list.company_divisions(db.session, current_user.company_id)
    division = request.args.get("division", "")
    if division not in {key for key, _ in divisions}:
        division = ""
    page = paginate(company_code_list.standard_cost_codes_query(current_user.company_id, search, division))
    company = current_user.company
    context = {
        "page": page, "search": search, "division": division, "divisions": divisions,
        "is_admin": current_user.tool_level(CompanyTool.COMPANY_ADMIN) >= Level.ADMIN,
    }
    if is_htmx():  # search, division and paging replace only the table
        return render_template("company_admin/_standard_cost_code_table.html", **context)
    # The page includes the Cost code format and Refresh all projects sections.
    return render_page(
        "company_admin/standard_cost_codes.html", company=company,
        refresh_all=refresh_all_overview(db.session, company),
        erp_system=company.erp_system, cost_code_mask=company.cost_code_mask,
        invalid_count=company_code_list.invalid_code_count(db.session, company.id),
        mask_form=CostCodeMaskForm(formdata=None, mask=company.cost_code_mask or ""),
        file_type_form=Sage100FileTypeForm(formdata=None, file_type=company.sage100_file_type),
        file_type_label=FILE_TYPES.get(company.sage100_file_type, company.sage100_file_type),
        **context,
    )


@bp.post("/standard-cost-codes/mask")
@ADMIN
def set_cost_code_mask():
    back = url_for("company_admin.standard_cost_codes")
    form = CostCodeMaskForm()
    if not form.validate_on_submit():
        flash(f"The cost code mask was not changed. {_form_errors(form)}", "error")
        return redirect(back)

    def change():
        company, invalid = code_format.set_cost_code_mask(
            db.session, actor=_actor(), mask_text=form.mask.data or ""
        )
        mask = company.cost_code_mask or "none (only Sage 300 CRE's general rules apply)"
        listed = "Every stored code fits."
        if invalid:
            listed = f"{invalid} stored code{'s do' if invalid != 1 else ' does'} not fit: listed as invalid."
        return f"Cost code mask: {mask}. {listed}", "success"

    return _apply(change, back)


@bp.post("/standard-cost-codes/file-type")
@ADMIN
def set_sage100_file_type():
    back = url_for("company_admin.standard_cost_codes")
    form = Sage100FileTypeForm()
    if not form.validate_on_submit():
        flash(f"The import file type was not changed. {_form_errors(form)}", "error")
        return redirect(back)

    def change():
        company = code_format.set_sage100_file_type(
            db.session, actor=_actor(), file_type=form.file_type.data
        )
        return f"The file connector now writes {FILE_TYPES[company.sage100_file_type]} files.", "success"

    return _apply(change, back)


@bp.post("/standard-cost-codes/<int:standard_cost_code_id>/archived")
@ADMIN
def set_standard_cost_code_archived(standard_cost_code_id: int):
    try:
        code = company_code_list.company_standard_cost_code(
            db.session, current_user.company_id, standard_cost_code_id
        )
    except NotFound:
        abort(404)
    list_url = url_for("company_admin.standard_cost_codes")
    back = safe_return_path(request.form.get("back"), within=list_url) or list_url
    form = ArchiveForm()
    if not form.validate_on_submit():
        flash(f"Nothing was changed for {code.code}: say whether to archive or unarchive it.", "error")
        return redirect(back)
    archived = form.archived.data == "yes"

    def change():
        company_code_list.set_standard_cost_code_archived(
            db.session, actor=_actor(), standard_cost_code_id=code.id, archived=archived
        )
        return f"{'Archived' if archived else 'Unarchived'} {code.code} {code.description}.", "success"

    return _apply(change, back)


# --- Audit Log ------------------------------------------------------------------------------------

def _audit_filter():
    choices = audit_log_service.audit_filter_choices(db.session, current_user.company_id)
    audit_filter, errors = audit_filter_from(request.args, choices)
    return choices, audit_filter, errors


@bp.route("/audit-log")
@READ_ONLY
def audit_log():
    choices, audit_filter, errors = _audit_filter()
    page = None
    if not errors:
        page = paginate(audit_log_service.audit_events_query(current_user.company_id, audit_filter))
    return render_page_or_partial(
        "company_admin/audit_log.html", "company_admin/_audit_log_table.html",
        page=page, choices=choices, errors=errors, args=carried_query_args(exclude=("page",)),
        describe_details=describe_details, action_sentence=action_sentence,
    ), 400 if errors else 200


@bp.route("/audit-log.csv")
@READ_ONLY
def audit_log_csv():
    _choices, audit_filter, errors = _audit_filter()
    if errors:
        return error_response(400, " ".join(errors))
    rows = audit_log_service.audit_events_csv(db.session, current_user.company_id, audit_filter)
    filename = f"audit-log-{current_user.company.slug}-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(rows), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
