"""Sessions: who is logged in, for how long, and ending sessions at once when needed."""
from __future__ import annotations

import time
from functools import cache

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import User
from portal.web.htmx import is_htmx


@cache
def _user_with_company() -> Select:
    # Every page shows the company (header, permissions): one query, not two. Built once, for
    # the `user_id` parameter: Session.get() with options rebuilt it on every request.
    return select(User).options(joinedload(User.company)).where(User.id == bindparam("user_id"))


def load_user(user_id: str) -> User | None:
    # The id carries the session version: deactivating a user bumps it, which ends every
    # session that user has open, including ones already in other browsers.
    try:
        raw_id, raw_version = user_id.split(":", 1)
        version = int(raw_version)
        user = db.session.scalars(_user_with_company(), {"user_id": int(raw_id)}).one_or_none()
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


def init_login(app: Flask, manager: LoginManager) -> None:
    manager.init_app(app)
    manager.user_loader(load_user)
    manager.unauthorized_handler(_unauthorized)
    manager.session_protection = "basic"
    app.before_request(_end_expired_session)
