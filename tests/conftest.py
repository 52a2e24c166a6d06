"""Shared fixtures: a seeded demo database per test (SQLite by default, PostgreSQL when
PORTAL_TEST_DB=postgresql), `client` that sends real CSRF tokens, and `auth` to log in as a
demo role.

The seeded database is built once per run and cloned for each test (a file copy on SQLite,
CREATE DATABASE … TEMPLATE on PostgreSQL), so every test starts from the same demo data.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, select, text

from portal import create_app
from portal.auth.session import SESSION_TOKEN
from portal.config import TestConfig
from portal.demo import DEMO_PASSWORD, seed_demo
from portal.extensions import db
from portal.models import Company, Project, User
from portal.services.login import open_session

BACKEND = os.environ.get("PORTAL_TEST_DB", "sqlite")
POSTGRES_SERVER = os.environ.get("PORTAL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")

ROLES = ["admin", "approver", "accountant", "viewer", "pm"]


def _postgres_admin():
    return create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")


def _build_seeded(url: str, tmp: Path) -> None:
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, **_side_paths(tmp))
    with app.app_context():
        db.create_all()
        seed_demo(db.session)
        db.session.remove()
        db.engine.dispose()


def _side_paths(base: Path) -> dict[str, str]:
    return {
        "ERP_DATABASE_URL": f"sqlite:///{base / 'erp.sqlite'}",
        "SAGE100_INBOX_DIR": str(base / "sage100" / "inbox"),
        "SAGE100_OUTBOX_DIR": str(base / "sage100" / "outbox"),
    }


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory):
    base = tmp_path_factory.mktemp("seeded")
    if BACKEND == "postgresql":
        name = f"ccp_tpl_{uuid.uuid4().hex[:10]}"
        admin = _postgres_admin()
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
        admin = _postgres_admin()
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
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, **_side_paths(tmp_path))
    app.test_client_class = PortalClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app) -> PortalClient:
    return app.test_client()


def user_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


def company_by_slug(slug: str) -> Company:
    return db.session.scalar(select(Company).where(Company.slug == slug))


def first_project(slug: str = "ridgeline") -> Project:
    company = company_by_slug(slug)
    return db.session.scalar(
        select(Project).where(Project.company_id == company.id).order_by(Project.number)
    )


class AuthActions:
    def __init__(self, client: PortalClient):
        self._client = client

    def login(self, email: str, password: str = DEMO_PASSWORD, next_url: str = ""):
        """The real login form (slow: a full scrypt check). Use login_as elsewhere."""
        return self._client.post_form("/login", {"email": email, "password": password, "next": next_url})

    def login_as(self, role_or_email: str, company: str = "ridgeline.test") -> User:
        """Start a session for a demo user as the login form would, without the slow hash check."""
        email = role_or_email if "@" in role_or_email else f"{role_or_email}@{company}"
        user = user_by_email(email)
        token = open_session(db.session, user_id=user.id)
        with self._client.session_transaction() as session:
            session.clear()
            session["_user_id"] = user.get_id()
            session[SESSION_TOKEN] = token
            session["_fresh"] = True
            session["login_at"] = time.time()
        return user

    def logout(self):
        return self._client.post_form("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)
