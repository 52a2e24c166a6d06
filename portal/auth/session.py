"""Sessions: who is logged in, for how long, and ending sessions at once when needed."""
from __future__ import annotations

import time

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import User
from portal.web import is_htmx


def load_user(user_id: str) -> User | None:
    # The id carries the session version: deactivating a user bumps it, which ends every
    # session that user has open, including ones already in other browsers.
    try:
        raw_id, raw_version = user_id.split(":", 1)
        # Every page shows the company (header, permissions): one query, not two.
        user = db.session.get(User, int(raw_id), options=[joinedload(User.company)])
        version = int(raw_version)
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
