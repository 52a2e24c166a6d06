"""Shared fixtures: a seeded demo database per test (SQLite by default, PostgreSQL when
PORTAL_TEST_DB=postgresql), `client` that sends real CSRF tokens, `auth` to log in as a
demo role, and `live_server` serving the test's app on loopback. Helpers are in tests/helpers.py.

The seeded database is built once per run and cloned for each test (a file copy on SQLite,
CREATE DATABASE … TEMPLATE on PostgreSQL), so every test starts from the same demo data.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text
from waitress.server import create_server

from portal import create_app
from portal.config import TestConfig
from portal.demo import seed_demo
from portal.extensions import db
from tests.helpers import BACKEND, POSTGRES_SERVER, AuthActions, postgres_admin, side_paths


def _build_seeded(url: str, tmp: Path) -> None:
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, **side_paths(tmp))
    with app.app_context():
        db.create_all()
        seed_demo(db.session, password_hash_method=app.config["PASSWORD_HASH_METHOD"])
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory):
    base = tmp_path_factory.mktemp("seeded")
    if BACKEND == "postgresql":
        name = f"ccp_tpl_{uuid.uuid4().hex[:10]}"
        admin = postgres_admin()
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        _build_seeded(f"{POSTGRES_SERVER}/{name}", base)
        yield name
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = base / "seeded.sqlite"
        _build_seeded(f"sqlite:///{path}", base)
        with sqlite3.connect(path) as connection:  # fold the WAL into the file before copying it
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        yield path


@pytest.fixture
def database_url(seeded_database, tmp_path):
    if BACKEND == "postgresql":
        name = f"ccp_t_{uuid.uuid4().hex[:12]}"
        admin = postgres_admin()
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{seeded_database}"'))
        yield f"{POSTGRES_SERVER}/{name}"
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path / "portal.sqlite"
        shutil.copyfile(seeded_database, path)
        yield f"sqlite:///{path}"


class PortalClient(FlaskClient):
    """A test client whose form posts carry a valid CSRF token for its session, as a browser's do."""

    def open(self, *args, **kwargs):
        # Every request of a test runs inside the test's one app context, so Flask-Login's
        # cached user in `g` would leak from one client's request into another's. A real
        # request has its own context: load the user from this client's session each time.
        if has_app_context():
            g.pop("_login_user", None)
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        app = self.application
        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324 (Flask-WTF's own format)
                session["csrf_token"] = raw
        return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)

    def htmx_post(self, url: str, data: dict | None = None, **kwargs):
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf_token(), **kwargs.pop("headers", {})}
        return self.post(url, data=data or {}, headers=headers, **kwargs)

    def htmx_get(self, url: str, **kwargs):
        return self.get(url, headers={"HX-Request": "true", **kwargs.pop("headers", {})}, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, **side_paths(tmp_path))
    app.test_client_class = PortalClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app) -> PortalClient:
    return app.test_client()


@pytest.fixture
def live_server(app):
    """The test's app on a free loopback port, with waitress's worker threads as in production."""
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)
