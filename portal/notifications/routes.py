from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from portal.extensions import db
from portal.models import APPROVAL_MAIL_CHOICES
from portal.notifications import bp
from portal.services import ServiceError
from portal.services.approvals import approval_refusal
from portal.services.notifications import mail_is_on, set_approval_mail
from portal.web.layout import render_page


class NotificationsForm(FlaskForm):
    approval_mail = RadioField(
        "E-mail me when a cost code update waits for my approval",
        choices=[SelectChoice(value, label) for value, label in APPROVAL_MAIL_CHOICES.items()],
        validators=[InputRequired()],
    )
    submit = SubmitField("Save notifications")


def _page(form: NotificationsForm, status: int = 200):
    return render_page(
        "notifications/settings.html", form=form, mail_is_on=mail_is_on(),
        approver_refusal=approval_refusal(current_user),
    ), status


@bp.route("/account/notifications", methods=["GET"])
@login_required
def settings():
    return _page(NotificationsForm(approval_mail=current_user.approval_mail))


@bp.route("/account/notifications", methods=["POST"])
@login_required
def save_settings():
    form = NotificationsForm()
    if not form.validate_on_submit():
        errors = "; ".join(error for errors in form.errors.values() for error in errors)
        flash(f"Notifications were not saved: {errors}", "error")
        return _page(form, 400)
    try:
        changed = set_approval_mail(db.session, current_user, form.approval_mail.data)
    except ServiceError as error:
        flash(str(error), "error")
        return _page(form, 400)
    flash(
        f"Saved: {APPROVAL_MAIL_CHOICES[form.approval_mail.data]}." if changed else "Nothing changed.",
        "info",
    )
    return redirect(url_for("notifications.settings"))
