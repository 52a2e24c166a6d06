"""Background work with huey. Tasks only call services; their state lives in the portal database.

Storage: SQLite file by default (consumer threads started beside the web server), Redis when
REDIS_URL is set (consumers on several machines), immediate mode in tests.
"""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

from flask import Flask, has_app_context
from huey import RedisHuey, SqliteHuey, crontab

from portal.config import Config


def _make_huey():
    if Config.REDIS_URL:
        return RedisHuey("cost-code-portal", url=Config.REDIS_URL)
    Path(Config.HUEY_SQLITE_PATH).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("cost-code-portal", filename=Config.HUEY_SQLITE_PATH)


huey = _make_huey()
_consumer_app: Flask | None = None


def configure_huey(app: Flask) -> None:
    huey.immediate = bool(app.config.get("HUEY_IMMEDIATE"))


def app_context():
    """Tasks run inside the caller's app (immediate mode) or the consumer process's own app."""
    global _consumer_app
    if has_app_context():
        return nullcontext()
    if _consumer_app is None:
        from portal import create_app

        _consumer_app = create_app()
    return _consumer_app.app_context()


def start_consumer(workers: int = 2):
    """Consumer threads inside the web server's process, for the one-machine default."""
    import signal

    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.start()
    # huey installs its own handlers; give Ctrl-C back to the web server, which stops both.
    signal.signal(signal.SIGINT, previous[0])
    signal.signal(signal.SIGTERM, previous[1])
    return consumer



# --- Refresh Cost Codes tasks (refresh issue) ---


@huey.task()
def refresh_project_cost_codes_task(job_id: int) -> None:
    from flask import current_app

    from portal.extensions import db
    from portal.services.refresh import refresh_project_cost_codes

    # The consumer's app context ends with the task, and with it the task's session.
    with app_context():
        refresh_project_cost_codes(
            db.session, job_id, step_delay=float(current_app.config["REFRESH_STEP_DELAY"])
        )


def enqueue_refresh(job_id: int) -> None:
    """Hand a queued refresh job to a worker (run at once in immediate mode)."""
    refresh_project_cost_codes_task(job_id)


@huey.periodic_task(crontab(minute="*"))
def fail_stalled_refreshes_task() -> None:
    """A worker that died mid-refresh leaves a running job; after a minute it is marked failed."""
    from portal.extensions import db
    from portal.services.refresh import fail_stalled_refreshes

    with app_context():
        fail_stalled_refreshes(db.session)


# --- Data sync tasks (sync issue) ---
