"""Background work with huey. Tasks only call services; their state lives in the portal database.

Storage: SQLite file by default (consumer threads started beside the web server), Redis when
REDIS_URL is set (consumers on several machines), immediate mode in tests.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager, nullcontext
from pathlib import Path

from flask import Flask, has_app_context
from huey import RedisHuey, SqliteHuey, crontab

from portal.config import Config
from portal.logs import init_job_logging


def _make_huey():
    if Config.REDIS_URL:
        return RedisHuey(Config.HUEY_NAME, url=Config.REDIS_URL)
    Path(Config.HUEY_SQLITE_PATH).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(Config.HUEY_NAME, filename=Config.HUEY_SQLITE_PATH)


huey = _make_huey()
init_job_logging(huey)
_consumer_app: Flask | None = None


def configure_huey(app: Flask) -> None:
    huey.immediate = bool(app.config.get("HUEY_IMMEDIATE"))


def app_context():
    """Tasks run inside the caller's app (immediate mode) or the consumer process's own app."""
    global _consumer_app
    if has_app_context():
        return nullcontext()
    if _consumer_app is None:
        from portal import create_app, settle_for_serving

        _consumer_app = create_app()
        settle_for_serving()
    return _consumer_app.app_context()


def start_consumer(workers: int = 2):
    """Consumer threads inside the web server's process, for the one-machine default."""
    import signal

    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    # Idle workers poll at most a second apart (huey backs off to 10 s by default), so a refresh
    # banner never waits long for its job to start.
    consumer = huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, initial_delay=0.1, backoff=1.15, max_delay=1.0
    )
    consumer.start()
    # huey installs its own handlers; give Ctrl-C back to the web server, which stops both.
    signal.signal(signal.SIGINT, previous[0])
    signal.signal(signal.SIGTERM, previous[1])
    return consumer


# --- Refresh Cost Codes ---


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


# --- The data sync with the ERP ---


@contextmanager
def _task_session():
    """The portal's session inside the task's app; a task running in its caller's app (immediate
    mode) must leave the caller's session as it was."""
    from portal.extensions import db

    owns_context = not has_app_context()
    with app_context():
        try:
            yield db.session
        finally:
            if owns_context:
                db.session.remove()


def start_due_syncs(now=None) -> list[int]:
    """Start the sync of every company whose schedule is due (one task per company)."""
    from portal.services.sync import claim_due_syncs

    with _task_session() as session:
        company_ids = claim_due_syncs(session, now)
    for company_id in company_ids:
        sync_company(company_id, "schedule", None)
    return company_ids


@huey.periodic_task(crontab(minute="*"), name="scheduled_syncs")
def scheduled_syncs() -> None:
    start_due_syncs()


@huey.task(name="sync_company")
def sync_company(company_id: int, trigger: str = "schedule", actor_id: int | None = None,
                 run_id: int | None = None) -> int | None:
    """One company's sync run; returns the run's id (None when another run was going)."""
    from flask import current_app

    from portal.erp.base import ErpError
    from portal.erp.connectors import connector_for
    from portal.models import Company, User
    from portal.services import ServiceError
    from portal.services.sync import fail_queued_run, run_company_sync

    with _task_session() as session:
        company = session.get(Company, company_id)
        if company is None:
            return None
        try:
            connector = connector_for(company, current_app.config)
        except ErpError as error:
            return fail_queued_run(session, company_id, run_id, trigger, str(error)).id
        actor = session.get(User, actor_id) if actor_id else None
        try:
            run = run_company_sync(
                session, company_id, connector=connector, trigger=trigger, actor=actor,
                run_id=run_id,
            )
        except ServiceError as error:
            logging.getLogger(__name__).info("Sync of company %s not started: %s", company_id, error)
            return None
        return run.id


# --- Running it for years (issue 19) ---


@huey.periodic_task(crontab(minute="*"), name="worker_heartbeat")
def worker_heartbeat_task() -> None:
    """The worker says it is alive, in the portal's database, for /healthz and Portal status."""
    from portal.models import WORKER_HEARTBEAT
    from portal.services.portal_status import record_mark

    with _task_session() as session:
        record_mark(session, WORKER_HEARTBEAT)


@huey.on_startup()
def _beat_on_start() -> None:
    # A freshly started worker is alive now, not only at the next minute's periodic beat.
    worker_heartbeat_task.call_local()


@huey.on_shutdown()
def _say_stopped() -> None:
    from portal.services.portal_status import record_worker_stopped

    with _task_session() as session:
        record_worker_stopped(session)


# --- Directory sign-in and e-mail tasks (issue 17) ---


@huey.periodic_task(crontab(minute="*/5"), name="end_sessions_of_disabled_directory_accounts")
def end_sessions_of_disabled_directory_accounts() -> None:
    """Within five minutes of IT disabling or removing someone, their portal sessions end."""
    from portal.auth.directory_login import configured_directory
    from portal.services.directory_signin import end_sessions_of_disabled_accounts

    with _task_session() as session:
        settings = configured_directory()
        if settings is not None:
            end_sessions_of_disabled_accounts(session, settings)


@huey.periodic_task(crontab(minute="*"), name="send_due_mail")
def send_due_mail_task() -> None:
    """Mail goes out within a minute of its event (a digest at its hour), retried while the
    mail server is down; never from a web request."""
    from flask import current_app

    from portal.notifications.links import portal_links
    from portal.services.notifications import mail_settings, send_due_mail

    with _task_session() as session:
        send_due_mail(session, mail_settings(current_app.config), portal_links(current_app))
