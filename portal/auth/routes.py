from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from portal.auth import bp
from portal.auth.directory_login import try_directory
from portal.auth.forms import EmptyForm, LoginForm
from portal.auth.passwords import password_matches
from portal.extensions import db, limiter
from portal.models import CompanyTool, Level, User
from portal.services.audit import record_event
from portal.services.directory_signin.accounts import WRONG_NAME_OR_PASSWORD

# Checked against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password.
_NO_SUCH_USER_HASH = (
    "scrypt:131072:8:1$0000000000000000$"
    "b0b3f2b2d6f0f3f6e5c4ab0a1f3e2d1c0b9a8f7e6d5c4b3a2918f7e6d5c4b3a2"
    "918f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a29180"
)


def safe_next(target: str | None) -> str | None:
    """Only paths on this site: `//evil.example`, `https://…` and `\\\\host` are dropped."""
    if not target or "\\" in target or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    return target


def _login_key() -> str:
    return "login:" + request.form.get("email", "").strip().lower()


def _home_for(user: User) -> str:
    if user.can_push_to_accounting and user.tool_level(CompanyTool.ERP_INTEGRATIONS) >= Level.READ_ONLY:
        return url_for("erp_integrations.jobs")
    return url_for("project_admin.projects")


@bp.route("/")
@login_required
def index():
    return redirect(_home_for(current_user))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURE_LIMIT"],
    key_func=_login_key,
    methods=["POST"],
    deduct_when=lambda response: g.get("login_failed", False),
    error_message="Too many failed log-in attempts for this account. Wait 15 minutes and try again.",
)
def login():
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        matches = password_matches(user.password_hash if user else _NO_SUCH_USER_HASH, form.password.data)
        refusal = WRONG_NAME_OR_PASSWORD
        if not (user is not None and matches and user.active):  # issue 17: the company directory
            directory = try_directory(db.session, user, form.email.data, form.password.data)
            if directory is not None:
                user, matches, refusal = directory.user, directory.user is not None, directory.refusal
        if user is not None and matches and user.active:
            session.clear()  # no session fixation: nothing from before the login survives
            login_user(user)
            session.permanent = True
            session["login_at"] = time.time()
            record_event(
                db.session, company_id=user.company_id, actor=user, action="user.login",
                object_type="user", object_id=user.id, object_label=user.email,
            )
            db.session.commit()
            return redirect(safe_next(form.next.data) or _home_for(user))
        g.login_failed = True
        flash(refusal, "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        record_event(
            db.session, company_id=current_user.company_id, actor=current_user, action="user.logout",
            object_type="user", object_id=current_user.id, object_label=current_user.email,
        )
        db.session.commit()
        logout_user()
        session.clear()
        flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))
