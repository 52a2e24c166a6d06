"""/healthz tells a monitoring tool, without a log-in, whether the portal can do its work."""
from __future__ import annotations

import json
from datetime import timedelta

import flask_migrate
import pytest

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from portal.models import WORKER_HEARTBEAT, SyncRun, utcnow
from portal.services.portal_status import read_mark, record_mark
from portal.tasks import huey, worker_heartbeat_task
from tests.helpers import PortalClient, company_by_slug, side_paths


@pytest.fixture
def served_app(database_url, tmp_path):
    """The portal as served: at the newest migration, with a background worker expected."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, HUEY_IMMEDIATE=False,
                     **side_paths(tmp_path))
    app.test_client_class = PortalClient
    with app.app_context():
        flask_migrate.stamp()
        yield app
        db.session.remove()
        db.engine.dispose()
    huey.immediate = True


def _health(app):
    response = app.test_client().get("/healthz")
    return response.status_code, response.get_json()


def test_healthz_is_200_when_the_database_migrations_and_worker_are_fine(served_app):
    record_mark(db.session, WORKER_HEARTBEAT)
    status, body = _health(served_app)
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["reasons"] == []
    assert set(body["checks"]) == {"database", "migrations", "worker", "syncs"}


def test_healthz_is_503_when_the_worker_never_beat(served_app):
    status, body = _health(served_app)
    assert status == 503
    assert body["reasons"] == ["the background worker has never beaten: is it running?"]


def test_healthz_is_503_when_the_workers_heartbeat_is_old(served_app):
    record_mark(db.session, WORKER_HEARTBEAT, now=utcnow() - timedelta(minutes=10))
    status, body = _health(served_app)
    assert status == 503
    assert "heartbeat is 600 s old" in body["reasons"][0]
    assert body["checks"]["worker"]["ok"] is False


def test_the_worker_heartbeat_task_writes_the_time_any_web_worker_reads(served_app):
    before = utcnow()
    worker_heartbeat_task.call_local()
    worker_heartbeat_task.call_local()  # a second beat overwrites the first
    assert read_mark(db.session, WORKER_HEARTBEAT).at >= before.replace(microsecond=0)
    assert _health(served_app)[0] == 200


def test_healthz_is_503_when_migrations_are_not_at_head(served_app):
    record_mark(db.session, WORKER_HEARTBEAT)
    flask_migrate.stamp(revision="0005")
    status, body = _health(served_app)
    assert status == 503
    assert body["checks"]["migrations"]["current"] == ["0005"]
    assert "flask db upgrade" in body["reasons"][0]


def test_healthz_reports_each_companys_last_sync_by_id_without_names(served_app):
    record_mark(db.session, WORKER_HEARTBEAT)
    ridgeline, harbor = company_by_slug("ridgeline"), company_by_slug("harbor-point")
    now = utcnow()
    db.session.add_all([
        SyncRun(company_id=ridgeline.id, status="succeeded", started_at=now - timedelta(hours=1),
                finished_at=now - timedelta(minutes=50), counts={}, invalid_codes=[], errors=[]),
        SyncRun(company_id=harbor.id, status="running", started_at=now - timedelta(minutes=5),
                heartbeat_at=now, counts={}, invalid_codes=[], errors=[]),
    ])
    db.session.commit()
    status, body = _health(served_app)
    assert status == 200
    syncs = {sync["company_id"]: sync for sync in body["checks"]["syncs"]["companies"]}
    assert syncs[ridgeline.id]["status"] == "succeeded"
    assert syncs[ridgeline.id]["finished_at"]
    assert 290 <= syncs[harbor.id]["running_for_seconds"] <= 310
    text = json.dumps(body)
    assert "Ridgeline" not in text and "Harbor" not in text


def test_healthz_is_503_when_a_sync_runs_with_no_sign_of_life(served_app):
    record_mark(db.session, WORKER_HEARTBEAT)
    long_ago = utcnow() - timedelta(hours=2)
    db.session.add(SyncRun(company_id=company_by_slug("ridgeline").id, status="running",
                           started_at=long_ago, heartbeat_at=long_ago, counts={},
                           invalid_codes=[], errors=[]))
    db.session.commit()
    status, body = _health(served_app)
    assert status == 503
    assert body["reasons"] == ["1 company sync(s) running with no sign of life"]


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path):
    missing = tmp_path / "no such folder" / "portal.sqlite"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}", **side_paths(tmp_path))
    with app.app_context():
        status, body = _health(app)
        db.engine.dispose()
    assert status == 503
    assert body["reasons"][0].startswith("the database does not answer")
    assert set(body["checks"]) == {"database"}
