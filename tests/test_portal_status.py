"""Company Admin's Portal status shows an admin the portal's state at a glance."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from portal.models import LAST_BACKUP, WORKER_HEARTBEAT, Level, SyncRun, utcnow
from portal.services.portal_status import record_mark
from portal.tasks import huey
from tests.helpers import BACKEND, AuthActions, PortalClient, company_by_slug, side_paths

URL = "/company-admin/portal-status"


def _page(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_portal_status_shows_version_database_and_that_no_backup_was_made(client, auth):
    auth.login_as("admin")
    page = _page(client)
    assert "<th scope=\"row\">Version</th><td>0.1.0</td>" in page
    assert ("PostgreSQL" if BACKEND == "postgresql" else "SQLite") + ", schema not stamped" in page
    assert "Never: see the README's Backups section" in page
    assert "<th scope=\"row\">Mail</th><td>Not configured: no e-mail is sent" in page
    assert "<th scope=\"row\">Directory service</th><td>Not configured: people log in" in page


def test_portal_status_shows_the_last_backups_time_and_archive(client, auth):
    record_mark(db.session, LAST_BACKUP, {"archive": "portal-backup-20261204-020000.zip"})
    auth.login_as("admin")
    page = _page(client)
    assert "UTC (portal-backup-20261204-020000.zip)" in page


def test_portal_status_shows_only_this_companys_last_sync(client, auth):  # rule 9
    now = utcnow()
    db.session.add_all([
        SyncRun(company_id=company_by_slug("ridgeline").id, status="succeeded", started_at=now,
                finished_at=now.replace(hour=3, minute=4), counts={}, invalid_codes=[], errors=[]),
        SyncRun(company_id=company_by_slug("harbor-point").id, status="running", started_at=now,
                heartbeat_at=now, counts={}, invalid_codes=[], errors=[]),
    ])
    db.session.commit()
    auth.login_as("admin")
    page = _page(client)
    assert f"Succeeded, finished {now:%Y-%m-%d} 03:04 UTC" in page
    assert "Running" not in page


def test_portal_status_tab_is_for_company_admin_admins_only(client, auth):
    auth.login_as("admin")
    directory = client.get("/company-admin/directory").get_data(as_text=True)
    assert 'href="/company-admin/portal-status"' in directory
    reader = auth.login_as("viewer")
    reader.company_admin_level = Level.READ_ONLY
    db.session.commit()
    assert client.get("/company-admin/directory").status_code == 200
    assert "portal-status" not in client.get("/company-admin/directory").get_data(as_text=True)
    assert client.get(URL).status_code == 403


@pytest.fixture
def worker_client(database_url, tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, HUEY_IMMEDIATE=False,
                     **side_paths(tmp_path))
    app.test_client_class = PortalClient
    with app.app_context():
        yield app.test_client()
        db.session.remove()
        db.engine.dispose()
    huey.immediate = True


def test_portal_status_says_whether_the_worker_is_alive(worker_client):
    AuthActions(worker_client).login_as("admin")
    assert "Not running: the background worker has never beaten" in _page(worker_client)
    record_mark(db.session, WORKER_HEARTBEAT, now=utcnow() - timedelta(seconds=30))
    assert "Alive (last heartbeat 30 s ago)" in _page(worker_client)


def test_portal_status_shows_the_mail_and_directory_settings_without_their_passwords(database_url, tmp_path):
    app = create_app(
        TestConfig, SQLALCHEMY_DATABASE_URI=database_url, **side_paths(tmp_path),
        SMTP_URL="smtp://portal:mail-secret@mail.example.test:587?starttls=1",
        MAIL_FROM="portal@example.test",
        LDAP_URL="ldaps://dc1.example.test", LDAP_COMPANY="ridgeline", LDAP_BASE_DN="dc=example,dc=test",
        LDAP_BIND_DN="cn=portal,dc=example,dc=test", LDAP_BIND_PASSWORD="ldap-secret",
    )
    app.test_client_class = PortalClient
    with app.app_context():
        client = app.test_client()
        AuthActions(client).login_as("admin")
        page = _page(client)
        db.session.remove()
        db.engine.dispose()
    assert "From portal@example.test through mail.example.test:587 (STARTTLS)" in page
    assert "ldaps://dc1.example.test, search under dc=example,dc=test" in page
    assert "mail-secret" not in page and "ldap-secret" not in page


def test_portal_status_shows_the_last_sync_in_the_companys_time_zone(client, auth):
    company = company_by_slug("ridgeline")
    company.time_zone = "America/Chicago"
    finished = utcnow().replace(month=12, day=4, hour=15, minute=4)
    db.session.add(SyncRun(company_id=company.id, status="succeeded", started_at=finished,
                           finished_at=finished, counts={}, invalid_codes=[], errors=[]))
    db.session.commit()
    auth.login_as("admin")
    assert f"Succeeded, finished {finished:%Y}-12-04 09:04 CST" in _page(client)
