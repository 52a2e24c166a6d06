"""Sessions: who is logged in, for how long, and ending sessions at once when needed."""
from __future__ import annotations

import time
from functools import cache

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import Company, LoginSession, User, utcnow
from portal.services.login import token_hash
from portal.web.htmx import is_htmx

# The session cookie's key for the server-side session's token (portal.services.login).
SESSION_TOKEN = "login_token"  # noqa: S105 (a key's name, not a secret)

# What a user who must choose a new password (after an admin's Reset password) may still reach.
_WHILE_CHOOSING_A_PASSWORD = {"auth.account", "auth.change_password", "auth.logout", "static"}


@cache
def _user_with_company() -> Select:
    # Every page shows the company (header, permissions): one query, not two, which also checks
    # that the browser's session still exists on the server. Built once, for its parameters.
    # The company's ERP connection comes with it: Ready to Update's note reads it, and a query
    # of its own cost a quarter of that page's database time (bench/RESULTS.md, 2026-12-04).
    return (
        select(User)
        .options(joinedload(User.company).joinedload(Company.erp_connection))
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == bindparam("user_id"),
            LoginSession.token_hash == bindparam("token_hash"),
            LoginSession.started_at >= bindparam("started_after"),
        )
    )


def load_user(user_id: str) -> User | None:
    # The id carries the session version: deactivating a user bumps it, which ends every
    # session that user has open, including ones already in other browsers. The session's
    # token must name a session that has not ended (log-out, password change).
    token = session.get(SESSION_TOKEN)
    if not token:
        return None
    try:
        raw_id, raw_version = user_id.split(":", 1)
        version = int(raw_version)
        user = db.session.scalars(_user_with_company(), {
            "user_id": int(raw_id),
            "token_hash": token_hash(token),
            "started_after": utcnow() - current_app.config["SESSION_LIFETIME"],
        }).one_or_none()
    except ValueError:
        return None
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _unauthorized():
    login_url = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if is_htmx():
        return "", 401, {"HX-Redirect": login_url}
    return redirect(login_url)


def _end_expired_session():
    if not current_user.is_authenticated:
        return None
    login_at = session.get("login_at", 0)
    if time.time() - login_at > current_app.config["SESSION_LIFETIME"].total_seconds():
        logout_user()
        session.clear()
        flash("Your session has ended after 12 hours. Log in again.", "info")
        return _unauthorized()
    return None


def _require_a_new_password():
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in _WHILE_CHOOSING_A_PASSWORD
    ):
        account_url = url_for("auth.account")
        if is_htmx():
            return "", 204, {"HX-Redirect": account_url}
        return redirect(account_url)
    return None


def init_login(app: Flask, manager: LoginManager) -> None:
    manager.init_app(app)
    manager.user_loader(load_user)
    manager.unauthorized_handler(_unauthorized)
    manager.session_protection = "basic"
    app.before_request(_end_expired_session)
    app.before_request(_require_a_new_password)
