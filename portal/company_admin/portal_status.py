"""Company Admin's Portal status: is the portal well, and when was it last backed up; and the
company's time zone, which every screen shows times in."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user

from portal.auth.directory_login import configured_directory
from portal.auth.permissions import company_tool_required
from portal.backup import instance_files
from portal.backup.manifest import app_version
from portal.company_admin import bp
from portal.extensions import db
from portal.models import CompanyTool, Level
from portal.services import ServiceError
from portal.services.company_settings import set_time_zone
from portal.services.notifications import mail_settings
from portal.services.portal_status import directory_words, mail_words
from portal.services.portal_status import portal_status as portal_status_service
from portal.times import time_zone_names
from portal.web.errors import refusal_response
from portal.web.layout import render_page


@bp.route("/portal-status")
@company_tool_required(CompanyTool.COMPANY_ADMIN, Level.ADMIN)
def portal_status():
    files = instance_files(current_app.config)
    status = portal_status_service(
        db.session, current_user.company_id,
        worker_expected=not current_app.config["HUEY_IMMEDIATE"],
        migrations_dir=str(files.migrations_dir),
        database_kind=files.database_kind,
        version=app_version(),
        mail=mail_words(mail_settings(current_app.config)),
        directory_service=directory_words(configured_directory()),
    )
    return render_page(
        "company_admin/portal_status.html", status=status,
        company_time_zone=current_user.company.time_zone, time_zone_names=time_zone_names(),
    )


@bp.post("/time-zone")
@company_tool_required(CompanyTool.COMPANY_ADMIN, Level.ADMIN)
def change_time_zone():
    back = url_for("company_admin.portal_status")
    try:
        company = set_time_zone(
            db.session, current_user.company_id, request.form.get("time_zone", ""),
            actor=current_user._get_current_object(),
        )
    except ServiceError as error:
        return refusal_response(error, back=back)
    flash(f"Times are now shown in {company.time_zone}.", "success")
    return redirect(back, 303)
