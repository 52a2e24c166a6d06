"""Company Admin → ERP settings: the company's connector, its settings, and Test connection."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user

from portal.auth.permissions import company_tool_required, deny
from portal.company_admin import bp
from portal.extensions import db
from portal.models import CompanyTool, Level
from portal.services import PermissionDenied, ServiceError
from portal.services import erp_settings as erp_settings_service
from portal.web.layout import render_page

READ_ONLY = company_tool_required(CompanyTool.COMPANY_ADMIN, Level.READ_ONLY)
ADMIN = company_tool_required(CompanyTool.COMPANY_ADMIN, Level.ADMIN)


@bp.get("/erp-settings")
@READ_ONLY
def erp_settings():
    view = erp_settings_service.erp_settings_view(db.session, current_user.company_id, current_app.config)
    return render_page(
        "company_admin/erp_settings.html",
        settings=view,
        company=current_user.company,
        is_admin=current_user.tool_level(CompanyTool.COMPANY_ADMIN) >= Level.ADMIN,
    )


@bp.post("/erp-settings")
@ADMIN
def save_erp_settings():
    form = request.form
    kind = form.get("kind", "")
    # Each connector's settings are named "<kind>__<setting>": only the chosen one's are taken.
    settings = {
        name.removeprefix(f"{kind}__"): value for name, value in form.items() if name.startswith(f"{kind}__")
    }
    password = settings.pop("password", "")
    writes_enabled = settings.pop("writes_enabled", "") == "on"
    try:
        message = erp_settings_service.save_erp_settings(
            db.session,
            actor=current_user._get_current_object(),
            kind=kind,
            settings=settings,
            password=password,
            writes_enabled=writes_enabled,
            secret_key=current_app.config["SECRET_KEY"],
        )
    except PermissionDenied as error:
        deny(str(error))
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(message, "success")
    return redirect(url_for("company_admin.erp_settings"))


@bp.post("/erp-settings/test")
@ADMIN
def test_erp_connection():
    try:
        check = erp_settings_service.test_connection(
            db.session, actor=current_user._get_current_object(), config=current_app.config
        )
    except PermissionDenied as error:
        deny(str(error))
    flash(check.message, "success" if check.succeeded else "error")
    return redirect(url_for("company_admin.erp_settings"))
