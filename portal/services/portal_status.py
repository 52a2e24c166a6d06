"""The portal's own state, for /healthz and Company Admin's Portal status.

Framework-free like every service: the caller passes what it knows of its setup (whether a
background worker is expected, where the migrations are).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from portal.models import ACTIVE_JOB_STATES, LAST_BACKUP, WORKER_HEARTBEAT, PortalMark, SyncRun, utcnow
from portal.services import transaction
from portal.services.sync import STALE_AFTER as SYNC_STALE_AFTER

# The worker beats once a minute (tasks.worker_heartbeat_task); three missed beats mean it is
# stopped, or so busy that queued work waits.
HEARTBEAT_MAX_AGE = timedelta(minutes=3)


def record_mark(session: Session, name: str, details: dict[str, Any] | None = None,
                now: datetime | None = None) -> None:
    """Set a portal mark (the worker's heartbeat, the last backup) to now."""
    now = now or utcnow()
    try:
        with transaction(session):
            mark = session.get(PortalMark, name)
            if mark is None:
                session.add(PortalMark(name=name, at=now, details=details or {}))
            else:
                mark.at = now
                mark.details = details or {}
    except IntegrityError:
        # Two workers beat at the same moment and the other one's insert won: the mark is set.
        pass


def record_worker_stopped(session: Session) -> None:
    """A worker stopped on purpose says so: `flask portal restore` need not wait for its
    heartbeat to age (a crashed one cannot; then the heartbeat's age tells)."""
    record_mark(session, WORKER_HEARTBEAT, {"stopped": True})


def read_mark(session: Session, name: str) -> PortalMark | None:
    return session.get(PortalMark, name)


@lru_cache(maxsize=4)
def migration_heads(migrations_dir: str) -> tuple[str, ...]:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", migrations_dir)
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def schema_revision(session: Session) -> tuple[str, ...]:
    """The revisions the database says it is at (empty before the first `flask db upgrade`)."""
    try:
        with session.begin_nested():  # a missing table must not spoil the rest of the read
            return tuple(sorted(session.scalars(text("SELECT version_num FROM alembic_version"))))
    except SQLAlchemyError:
        return ()


@dataclass
class Check:
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)


def _database_check(session: Session) -> Check:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        session.rollback()
        return Check(False, {"reason": f"the database does not answer: {type(error.orig or error).__name__}"})
    return Check(True)


def _migrations_check(session: Session, migrations_dir: str) -> Check:
    current, head = schema_revision(session), migration_heads(migrations_dir)
    detail = {"current": list(current), "head": list(head)}
    if current != head:
        detail["reason"] = "the database is not at the newest migration: run `flask db upgrade`"
    return Check(current == head, detail)


def _worker_check(session: Session, worker_expected: bool, now: datetime) -> Check:
    if not worker_expected:
        return Check(True, {"mode": "immediate: tasks run inside the request that queues them"})
    mark = read_mark(session, WORKER_HEARTBEAT)
    if mark is None:
        return Check(False, {"reason": "the background worker has never beaten: is it running?"})
    age = (now - mark.at).total_seconds()
    detail: dict[str, Any] = {"last_heartbeat": mark.at.isoformat() + "Z", "age_seconds": round(age)}
    if mark.details.get("stopped"):
        detail["reason"] = "the background worker was stopped"
        return Check(False, detail)
    if mark.at < now - HEARTBEAT_MAX_AGE:
        detail["reason"] = f"the background worker's last heartbeat is {round(age)} s old"
        return Check(False, detail)
    return Check(True, detail)


def last_syncs(session: Session, now: datetime, company_id: int | None = None) -> list[dict[str, Any]]:
    """Each company's latest sync run: finished when, or running for how long (ids, no names)."""
    latest = select(func.max(SyncRun.id)).group_by(SyncRun.company_id)
    if company_id is not None:
        latest = latest.where(SyncRun.company_id == company_id)
    runs = session.scalars(select(SyncRun).where(SyncRun.id.in_(latest)).order_by(SyncRun.company_id))
    syncs = []
    for run in runs:
        entry: dict[str, Any] = {"company_id": run.company_id, "status": run.status}
        if run.status in ACTIVE_JOB_STATES:
            entry["running_for_seconds"] = round((now - run.started_at).total_seconds())
            last_sign = run.heartbeat_at or run.started_at
            entry["stalled"] = last_sign < now - SYNC_STALE_AFTER
        else:
            entry["finished_at"] = run.finished_at
        syncs.append(entry)
    return syncs


def _syncs_check(session: Session, now: datetime) -> Check:
    syncs = [
        {**sync, "finished_at": sync["finished_at"].isoformat() + "Z"} if sync.get("finished_at") else sync
        for sync in last_syncs(session, now)
    ]
    stalled = [sync["company_id"] for sync in syncs if sync.get("stalled")]
    detail: dict[str, Any] = {"companies": syncs}
    if stalled:
        detail["reason"] = f"{len(stalled)} company sync(s) running with no sign of life"
    return Check(not stalled, detail)


def portal_health(session: Session, *, worker_expected: bool, migrations_dir: str,
                  now: datetime | None = None) -> dict[str, Any]:
    """What a monitoring tool needs: each check, and whether all pass. Nothing confidential."""
    now = now or utcnow()
    database = _database_check(session)
    checks = {"database": database}
    if database.ok:
        checks["migrations"] = _migrations_check(session, migrations_dir)
        checks["worker"] = _worker_check(session, worker_expected, now)
        checks["syncs"] = _syncs_check(session, now)
    session.rollback()  # a read: end it, so a SQLite snapshot is not held
    healthy = all(check.ok for check in checks.values())
    return {
        "status": "ok" if healthy else "failing",
        "reasons": [check.detail["reason"] for check in checks.values() if "reason" in check.detail],
        "checks": {name: {"ok": check.ok, **check.detail} for name, check in checks.items()},
        "time": now.isoformat() + "Z",
    }


def last_backup(session: Session) -> PortalMark | None:
    return read_mark(session, LAST_BACKUP)


DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass
class PortalStatus:
    """Company Admin's Portal status: the portal's state and this company's last sync."""

    version: str
    database: str
    schema_current: list[str]
    schema_head: list[str]
    worker: str
    worker_ok: bool
    last_backup: PortalMark | None
    last_sync: dict[str, Any] | None
    mail: str = "Not configured"
    directory_service: str = "Not configured"


def mail_words(settings) -> str:  # noqa: ANN001  (MailSettings | None)
    """What the mail settings say, without the password: the admin's check that they are right."""
    if settings is None:
        return "Not configured: no e-mail is sent (set SMTP_URL and MAIL_FROM)"
    security = "TLS" if settings.tls else "STARTTLS" if settings.starttls else "no encryption"
    return f"From {settings.sender} through {settings.host}:{settings.port} ({security})"


def directory_words(settings) -> str:  # noqa: ANN001  (DirectorySettings | None)
    """What the directory sign-in settings say, without the service account's password."""
    if settings is None:
        return "Not configured: people log in with their portal passwords (set LDAP_URL)"
    how = f"search under {settings.base_dn}" if settings.base_dn else f"DN template {settings.dn_template}"
    return f"{settings.url}, {how}; new people join {settings.company_slug} with no access"


def portal_status(session: Session, company_id: int, *, worker_expected: bool, migrations_dir: str,
                  database_kind: str, version: str, mail: str = "Not configured",
                  directory_service: str = "Not configured", now: datetime | None = None) -> PortalStatus:
    now = now or utcnow()
    worker = _worker_check(session, worker_expected, now)
    if not worker_expected:
        worker_text = "Not needed: tasks run inside each request"
    elif worker.ok:
        worker_text = f"Alive (last heartbeat {worker.detail['age_seconds']} s ago)"
    else:
        worker_text = "Not running: " + worker.detail["reason"]
    syncs = last_syncs(session, now, company_id=company_id)  # rule 9: this company's only
    status = PortalStatus(
        version=version,
        database=DATABASE_NAMES.get(database_kind, database_kind),
        schema_current=list(schema_revision(session)),
        schema_head=list(migration_heads(migrations_dir)),
        worker=worker_text,
        worker_ok=worker.ok,
        last_backup=last_backup(session),
        last_sync=syncs[0] if syncs else None,
        mail=mail,
        directory_service=directory_service,
    )
    session.rollback()
    return status
