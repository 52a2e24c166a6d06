from __future__ import annotations

import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import bp
from portal.auth.directory_login import configured_directory, try_directory
from portal.auth.forms import ChangePasswordForm, EmptyForm, LoginForm
from portal.auth.session import SESSION_TOKEN
from portal.auth.throttle import BUSY, Attempt, Refusal, password_checks
from portal.extensions import db
from portal.models import CompanyTool, Level, User
from portal.services import ServiceError
from portal.services import account as account_service
from portal.services import login as login_service
from portal.services.directory_signin.accounts import WRONG_NAME_OR_PASSWORD
from portal.web.errors import error_response
from portal.web.input import safe_return_path
from portal.web.layout import render_page


def _home_for(user: User) -> str:
    if user.can_push_to_accounting and user.tool_level(CompanyTool.ERP_INTEGRATIONS) >= Level.READ_ONLY:
        return url_for("erp_integrations.jobs")
    return url_for("project_admin.projects")


def _too_many_attempts(refusal: Refusal):
    body, status = error_response(429, refusal.message)
    return body, status, {"Retry-After": str(refusal.retry_after)}


@bp.route("/")
@login_required
def index():
    return redirect(_home_for(current_user))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        # request.remote_addr is the client's: X-Forwarded-For counts only through ProxyFix,
        # for as many proxies as TRUSTED_PROXIES says.
        attempt = Attempt(address=request.remote_addr or "", account=form.email.data.strip().lower())
        refusal_message = WRONG_NAME_OR_PASSWORD
        with password_checks.slot(current_app.config["LOGIN_CONCURRENT_CHECKS"]) as free:
            refusal = attempt.charge() if free else BUSY
            if refusal is not None:
                return _too_many_attempts(refusal)
            lifetime = current_app.config["SESSION_LIFETIME"]
            logged_in = login_service.log_in(
                db.session, email=form.email.data, password=form.password.data, lifetime=lifetime,
            )
            if logged_in is None:  # issue 17: someone the company directory knows
                directory = try_directory(db.session, None, form.email.data, form.password.data)
                if directory is not None and directory.user is not None:
                    logged_in = login_service.start_session(
                        db.session, user_id=directory.user.id, lifetime=lifetime
                    )
                elif directory is not None:
                    refusal_message = directory.refusal
        if logged_in is not None:
            attempt.refund()
            session.clear()  # no session fixation: nothing from before the login survives
            login_user(logged_in.user)
            session.permanent = True
            session["login_at"] = time.time()
            session[SESSION_TOKEN] = logged_in.session_token
            if logged_in.user.must_change_password:
                flash("Your password was reset by a Company Admin. Choose a new password to go on.", "info")
                return redirect(url_for("auth.account"))
            return redirect(safe_return_path(form.next.data) or _home_for(logged_in.user))
        flash(refusal_message, "error")
    return render_page("auth/login.html", form=form, directory_sign_in=configured_directory() is not None)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        login_service.log_out(
            db.session, user=current_user._get_current_object(), session_token=session.get(SESSION_TOKEN)
        )
        logout_user()
        session.clear()
        flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))


def _account_page(form: ChangePasswordForm, status: int = 200):
    return render_page(
        "auth/account.html", form=form, min_password_length=current_app.config["MIN_PASSWORD_LENGTH"],
        must_change_password=current_user.must_change_password,
    ), status


@bp.get("/account")
@login_required
def account():
    return _account_page(ChangePasswordForm(formdata=None))


@bp.post("/account/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            account_service.change_password(
                db.session, user=current_user._get_current_object(),
                current_password=form.current_password.data, new_password=form.new_password.data,
                min_password_length=current_app.config["MIN_PASSWORD_LENGTH"],
                keep_session_token=session.get(SESSION_TOKEN),
                password_hash_method=current_app.config["PASSWORD_HASH_METHOD"],
            )
        except ServiceError as error:
            form.form_errors.append(str(error))
        else:
            flash("Your password has been changed. Your other sessions have ended.", "success")
            return redirect(url_for("auth.account"))
    return _account_page(form, 422)
