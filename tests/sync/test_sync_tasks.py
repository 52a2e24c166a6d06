"""The sync's huey tasks: the schedule in immediate mode, and a real consumer process on Redis."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from huey.storage import RedisStorage
from sqlalchemy import select

from portal.extensions import db
from portal.models import SyncRun
from portal.tasks import huey, scheduled_syncs, start_due_syncs
from tests.helpers import company_by_slug
from tests.sync.factories import approved_request, project_by_number

ROOT = Path(__file__).resolve().parents[2]
CONSUMER = Path(sys.executable).parent / "huey_consumer"
REDIS_TEST_URL = os.environ.get("PORTAL_TEST_REDIS", "redis://127.0.0.1:6379/13")


def test_the_schedule_is_checked_every_minute():
    assert scheduled_syncs.s().validate_datetime(datetime(2026, 11, 22, 9, 17))
    assert scheduled_syncs.s().validate_datetime(datetime(2026, 11, 22, 23, 59))


def test_scheduled_sync_runs_when_its_time_is_due(app, erp):
    ridgeline, harbor = company_by_slug("ridgeline"), company_by_slug("harbor-point")
    ridgeline.sync_schedule, ridgeline.next_sync_at = "15m", datetime(2026, 1, 5, 9, 0)
    harbor.sync_schedule = "never"
    db.session.commit()
    request = approved_request(project_by_number("RB-2401"), [("3010.000", "1")])

    assert start_due_syncs(now=datetime(2026, 1, 5, 8, 59)) == []
    assert start_due_syncs(now=datetime(2026, 1, 5, 9, 0, 30)) == [ridgeline.id]

    runs = db.session.scalars(select(SyncRun)).all()
    assert [(run.company_id, run.trigger, run.status) for run in runs] == [
        (ridgeline.id, "schedule", "succeeded")
    ]
    db.session.refresh(request)
    assert request.status == "exported"
    db.session.refresh(ridgeline)
    assert ridgeline.next_sync_at == runs[0].started_at + timedelta(minutes=15)
    # Not due again until that time; then it runs again. "Never" never runs.
    assert start_due_syncs(now=ridgeline.next_sync_at - timedelta(seconds=1)) == []
    assert start_due_syncs(now=ridgeline.next_sync_at) == [ridgeline.id]
    assert db.session.scalar(select(SyncRun).where(SyncRun.company_id == harbor.id)) is None


def _redis_or_skip():
    import redis

    connection = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is not running at {REDIS_TEST_URL}")
    return connection


@pytest.mark.redis
def test_a_huey_consumer_on_redis_runs_the_sync_the_web_app_enqueued(
    app, client, auth, erp, tmp_path, monkeypatch
):
    redis_connection = _redis_or_skip()
    # A queue of this test's own: another test run on the same Redis must not take its task.
    queue = f"ccptest{uuid.uuid4().hex}"  # letters and digits: huey keeps them as they are in its keys
    approved_request(project_by_number("RB-2401"), [("3010.000", "1"), ("1010.000", "4")])
    # The web app enqueues on Redis, as on several machines (not immediate mode).
    monkeypatch.setattr(huey, "_immediate", False)
    monkeypatch.setattr(huey, "storage", RedisStorage(queue, url=REDIS_TEST_URL))
    env = {
        **os.environ,
        "REDIS_URL": REDIS_TEST_URL,
        "HUEY_NAME": queue,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "ERP_DATABASE_URL": app.config["ERP_DATABASE_URL"],
        "PORTAL_INSTANCE_DIR": str(tmp_path / "consumer-instance"),
        "SECRET_KEY": "consumer-test-key",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("HUEY_IMMEDIATE", None)
    consumer = subprocess.Popen(
        [str(CONSUMER), "portal.tasks.huey", "-w", "1", "--no-periodic", "-d", "0.1", "-m", "0.5"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        auth.login_as("admin")
        response = client.post_form("/erp-integrations/sync/now", {"company": "ridgeline"})
        assert response.status_code == 303
        db.session.rollback()  # SQLite: hold no lock while the consumer writes
        deadline = time.monotonic() + 60
        run = None
        while time.monotonic() < deadline:
            run = db.session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
            status = run.status if run else None
            db.session.rollback()
            if status in {"succeeded", "partial", "failed"}:
                break
            assert consumer.poll() is None, consumer.stdout.read()
            time.sleep(0.25)
        assert run is not None and run.status == "succeeded", (run and run.errors, run and run.status)
        assert run.trigger == "manual"
        codes = {code for code, _description, _types in erp.list_job_codes("ridgeline", "2401")}
        assert {"3010.000", "1010.000"} <= codes
    finally:
        os.killpg(consumer.pid, signal.SIGINT)
        try:
            consumer.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(consumer.pid, signal.SIGKILL)
            consumer.wait(timeout=5)
        for key in redis_connection.scan_iter(f"*{queue}*"):
            redis_connection.delete(key)
