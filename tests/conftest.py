"""Shared fixtures: a seeded demo database per test (SQLite by default, PostgreSQL when
PORTAL_TEST_DB=postgresql), `client` that sends real CSRF tokens, `auth` to log in as a
demo role, and `live_server` serving the test's app on loopback. Helpers are in tests/helpers.py.

The seeded database is built once per run and cloned for each test (a file copy on SQLite,
CREATE DATABASE … TEMPLATE on PostgreSQL), so every test starts from the same demo data.
"""
from __future__ import annotations

import shutil
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from waitress.server import create_server

from portal import create_app
from portal.config import TestConfig
from portal.demo import seed_demo
from portal.extensions import db
from tests.helpers import BACKEND, POSTGRES_SERVER, AuthActions, PortalClient, postgres_admin, side_paths


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


@pytest.fixture
def held_password_check(monkeypatch):
    """Every log-in's password check waits, inside the check, until the test sets `finish`;
    `checking` is set once one has started. For tests of what a slow check may hold up."""
    import portal.services.login

    checking, finish = threading.Event(), threading.Event()
    real_check = portal.services.login.password_matches

    def slow_check(password_hash: str, password: str) -> bool:
        checking.set()
        finish.wait(30)
        return real_check(password_hash, password)

    monkeypatch.setattr(portal.services.login, "password_matches", slow_check)
    return checking, finish
