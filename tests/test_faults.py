"""A full disk or a read-only database during an approval or a sync: a clear message, and
nothing already saved is lost (the backup's own faults are in test_backup.py)."""
from __future__ import annotations

import errno
import os
import sqlite3

import pytest
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from portal.faults import DISK_FULL, READ_ONLY
from portal.models import AuditEvent, CostCodeUpdateRequest, SyncRun
from portal.services.login import open_session
from tests.helpers import BACKEND, AuthActions, PortalClient, side_paths, user_by_email
from tests.sync.factories import approved_request, project_by_number
from tests.sync.test_sync_files import _sync, sage_files  # noqa: F401  (fixture)
from tests.test_approvals import waiting_request


def _approve_url(request) -> str:
    return f"/erp-integrations/requests/{request.id}/update"


def _read_only(database_url: str) -> dict:
    if BACKEND == "postgresql":
        return {"SQLALCHEMY_DATABASE_URI": database_url, "SQLALCHEMY_ENGINE_OPTIONS": {
            "connect_args": {"options": "-c default_transaction_read_only=on"}}}
    path = database_url.removeprefix("sqlite:///")
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///file:{path}?mode=ro&uri=true"}


def _approvals() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "cost_code_update.approve"))


def test_an_approval_on_a_read_only_database_says_so_and_changes_nothing(
    app, database_url, tmp_path
):
    request = waiting_request()
    request_id, lines, approvals = request.id, len(request.lines), _approvals()
    db.session.rollback()
    token = open_session(db.session, user_id=user_by_email("approver@ridgeline.test").id)
    read_only = create_app(TestConfig, **_read_only(database_url), **side_paths(tmp_path / "ro"))
    read_only.test_client_class = PortalClient
    with read_only.app_context():
        client = read_only.test_client()
        AuthActions(client).login_as("approver", token=token)
        response = client.htmx_post(_approve_url(request), {"seen_lines": lines})
        page = response.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()

    assert response.status_code == 503
    assert escape(READ_ONLY) in page
    assert "Reference number: <code>" in page
    db.session.expire_all()
    assert db.session.get(CostCodeUpdateRequest, request_id).status == "requested"
    assert _approvals() == approvals


def test_sync_now_on_a_read_only_database_says_so_and_starts_nothing(app, database_url, tmp_path):
    runs = db.session.scalar(select(func.count()).select_from(SyncRun))
    db.session.rollback()
    token = open_session(db.session, user_id=user_by_email("admin@ridgeline.test").id)
    read_only = create_app(TestConfig, **_read_only(database_url), **side_paths(tmp_path / "ro"))
    read_only.test_client_class = PortalClient
    with read_only.app_context():
        client = read_only.test_client()
        AuthActions(client).login_as("admin", token=token)
        response = client.htmx_post("/erp-integrations/sync/now", {"company": "ridgeline"})
        db.session.remove()
        db.engine.dispose()

    assert response.status_code == 503
    assert escape(READ_ONLY) in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SyncRun)) == runs


def test_an_approval_when_the_disk_fills_says_so_and_leaves_nothing_half_done(
    client, auth, monkeypatch
):
    request = waiting_request()
    request_id, lines, approvals = request.id, len(request.lines), _approvals()

    def disk_full(*_args):
        # What SQLite's driver raises when the database file cannot grow.
        raise OperationalError(
            "UPDATE cost_type_assignments", {}, sqlite3.OperationalError("database or disk is full")
        )

    monkeypatch.setattr("portal.services.approvals._tie_assignments", disk_full)
    auth.login_as("approver")
    response = client.htmx_post(_approve_url(request), {"seen_lines": lines})

    assert response.status_code == 503
    assert escape(DISK_FULL) in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CostCodeUpdateRequest, request_id).status == "requested"  # not claimed either
    assert _approvals() == approvals


def test_a_sync_whose_export_file_hits_a_full_disk_says_so_and_exports_it_next_time(
    app, sage_files, monkeypatch  # noqa: F811
):
    _inbox, outbox = sage_files
    request = approved_request(project_by_number("RB-2401"), [("4010.000", "1")])
    real_fsync = os.fsync

    def disk_full(_descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    run = _sync(app)
    assert run.status in ("partial", "failed")
    assert any("No space left on device" in error["message"] for error in run.errors), run.errors
    db.session.refresh(request)
    assert request.status == "approved"  # still waiting for the ERP, not lost nor marked exported
    assert list(outbox.glob("*.tab")) == [] and list(outbox.glob(".*.tmp")) == []

    monkeypatch.setattr(os, "fsync", real_fsync)
    assert _sync(app).status == "succeeded"
    db.session.refresh(request)
    assert request.status == "exported"
    assert len(list(outbox.glob("*.tab"))) == 1


@pytest.mark.parametrize(("error", "message"), [
    (OSError(errno.ENOSPC, "No space left on device"), DISK_FULL),
    (OperationalError("x", {}, sqlite3.OperationalError("attempt to write a readonly database")), READ_ONLY),
    (OperationalError("x", {}, sqlite3.OperationalError("database is locked")), None),
])
def test_storage_faults_are_told_apart_from_other_errors(error, message):
    from portal.faults import storage_fault

    assert storage_fault(error) == message
