"""Sync runs and schedules: Sync Now, the scheduled runs, and runs left behind by a stopped worker.

One run per company at a time: the partial unique index on sync_runs keeps a company's runs from
overlapping, and a run whose worker died is failed once it has sent no heartbeat for STALE_AFTER.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.erp import formats
from portal.models import ACTIVE_JOB_STATES, SYNC_SCHEDULES, Company, JobStatus, SyncRun, User, utcnow
from portal.services import NotFound, ServiceError, transaction
from portal.services.audit import record_event

SCHEDULE_INTERVALS: dict[str, timedelta | None] = {
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "2h": timedelta(hours=2),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
    "never": None,
}
assert set(SCHEDULE_INTERVALS) == set(SYNC_SCHEDULES)

# A run whose worker died keeps status "running"; after this long without a heartbeat it no
# longer blocks the company's next run.
STALE_AFTER = timedelta(minutes=30)

STEP_LABELS = {
    "codes": "Cost types and cost codes",
    "jobs": "ERP jobs",
    "new_jobs": "New ERP jobs",
    "cost_codes": "Cost code exports",
    "commitments": "Contracts and change orders",
    "differences": "Differences with ERP jobs",
}
RUN_STATES = {
    JobStatus.QUEUED: "Queued",
    JobStatus.RUNNING: "Running",
    JobStatus.SUCCEEDED: "Succeeded",
    JobStatus.PARTIAL: "Finished with failures",
    JobStatus.FAILED: "Failed",
}


def next_sync_time(schedule: str, after: datetime) -> datetime | None:
    interval = SCHEDULE_INTERVALS.get(schedule)
    return None if interval is None else after + interval


def existing_company(session: Session, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound(f"There is no company with the id {company_id}.")
    return company


def _next_run_number(session: Session, company_id: int) -> int:
    last = session.scalar(
        select(func.max(SyncRun.run_number)).where(SyncRun.company_id == company_id)
    )
    return (last or 0) + 1


def _fail_stale_runs(session: Session, company: Company, now: datetime) -> None:
    stale = session.scalars(
        select(SyncRun).where(
            SyncRun.company_id == company.id,
            SyncRun.status.in_(ACTIVE_JOB_STATES),
            func.coalesce(SyncRun.heartbeat_at, SyncRun.started_at) < now - STALE_AFTER,
        )
    ).all()
    if not stale:
        return
    with transaction(session):
        for run in stale:
            message = (
                "The sync never started: is the background worker running?"
                if run.status == JobStatus.QUEUED
                else "The sync stopped without finishing (its worker was stopped); "
                "its finished items are kept and the rest is retried."
            )
            run.status = JobStatus.FAILED
            run.finished_at = now
            run.errors = [*run.errors, {"step": "", "item": "", "message": message}]
            record_event(
                session, company_id=company.id, actor=None, action="sync.abandon",
                object_type="sync_run", object_id=run.id, object_label=f"Sync run {run.run_number}",
                details={"message": message},
            )


def active_run(session: Session, company_id: int) -> SyncRun | None:
    return session.scalar(
        select(SyncRun)
        .where(SyncRun.company_id == company_id, SyncRun.status.in_(ACTIVE_JOB_STATES))
        .order_by(SyncRun.id.desc())
        .limit(1)
    )


def recent_runs(session: Session, company_id: int, limit: int = 20) -> list[SyncRun]:
    return list(
        session.scalars(
            select(SyncRun)
            .where(SyncRun.company_id == company_id)
            .order_by(SyncRun.id.desc())
            .limit(limit)
        )
    )


def queue_sync(
    session: Session, company_id: int, *, actor: User | None, now: datetime | None = None
) -> SyncRun:
    """Sync Now: a queued run shows at once; the background task starts it."""
    now = now or utcnow()
    company = existing_company(session, company_id)
    _fail_stale_runs(session, company, now)
    running = active_run(session, company.id)
    if running is not None:
        raise ServiceError(
            f"A sync of {company.name} is already running (run {running.run_number}, "
            f"started {running.started_at:%Y-%m-%d %H:%M} UTC)."
        )
    with transaction(session):
        run = SyncRun(
            company_id=company.id, run_number=_next_run_number(session, company.id),
            trigger="manual", requested_by_id=actor.id if actor else None, status=JobStatus.QUEUED,
            started_at=now, heartbeat_at=now, counts={}, invalid_codes=[], errors=[],
        )
        session.add(run)
        session.flush()
        record_event(
            session, company_id=company.id, actor=actor, action="sync.request",
            object_type="sync_run", object_id=run.id, object_label=f"Sync run {run.run_number}",
        )
    return run


def set_sync_schedule(
    session: Session, company_id: int, schedule: str, *, actor: User | None,
    now: datetime | None = None,
) -> Company:
    now = now or utcnow()
    company = existing_company(session, company_id)
    if schedule not in SYNC_SCHEDULES:
        raise ServiceError(
            f'"{formats.shown(schedule or "")}" is not a sync schedule; choose one of '
            f"{', '.join(SYNC_SCHEDULES.values())}."
        )
    with transaction(session):
        previous = company.sync_schedule
        company.sync_schedule = schedule
        due = next_sync_time(schedule, company.last_sync_at or now)
        company.next_sync_at = None if due is None else max(due, now)
        record_event(
            session, company_id=company.id, actor=actor, action="sync.schedule",
            object_type="company", object_id=company.id, object_label=company.name,
            details={"from": SYNC_SCHEDULES.get(previous, previous), "to": SYNC_SCHEDULES[schedule]},
        )
    return company


def claim_due_syncs(session: Session, now: datetime | None = None) -> list[int]:
    """The companies whose scheduled sync is due; their next time moves on at once so the
    next minute's tick does not start them again while this run is queued."""
    now = now or utcnow()
    with transaction(session):
        due = session.scalars(
            select(Company)
            .where(
                Company.sync_schedule != "never",
                or_(Company.next_sync_at.is_(None), Company.next_sync_at <= now),
            )
            .order_by(Company.id)
        ).all()
        for company in due:
            company.next_sync_at = next_sync_time(company.sync_schedule, now)
        return [company.id for company in due]


def start_run(
    session: Session, company_id: int, *, trigger: str, actor: User | None, now: datetime,
    run_id: int | None = None,
) -> SyncRun:
    """Start a run of the company's sync: its queued run `run_id` if that is still queued,
    else a new one. Raises ServiceError when a run of the company is already running."""
    company = existing_company(session, company_id)
    name = company.name
    _fail_stale_runs(session, company, now)
    try:
        with transaction(session):
            run = session.get(SyncRun, run_id) if run_id is not None else None
            if run is None or run.company_id != company.id or run.status != JobStatus.QUEUED:
                run = SyncRun(
                    company_id=company.id, run_number=_next_run_number(session, company.id),
                    trigger=trigger, requested_by_id=actor.id if actor else None,
                    counts={}, invalid_codes=[], errors=[],
                )
                session.add(run)
            run.status = JobStatus.RUNNING
            run.started_at = now
            run.heartbeat_at = now
            session.flush()
    except IntegrityError:
        message = f"A sync of {name} is already running."
        if run_id is not None:
            _drop_queued_run(session, run_id, message, now)
        raise ServiceError(message) from None
    return run


def fail_queued_run(
    session: Session, company_id: int, run_id: int | None, trigger: str, message: str,
    now: datetime | None = None,
) -> SyncRun:
    """Record a run that could not start (no usable connector), so the Sync tab says why."""
    now = now or utcnow()
    with transaction(session):
        run = session.get(SyncRun, run_id) if run_id is not None else None
        if run is None or run.company_id != company_id or run.status != JobStatus.QUEUED:
            run = SyncRun(
                company_id=company_id, run_number=_next_run_number(session, company_id),
                trigger=trigger, started_at=now, counts={}, invalid_codes=[],
            )
            session.add(run)
        run.status = JobStatus.FAILED
        run.finished_at = now
        run.errors = [{"step": "", "item": "", "message": message[:500]}]
        session.flush()
        record_event(
            session, company_id=company_id, actor=None, action="sync.run", object_type="sync_run",
            object_id=run.id, object_label=f"Sync run {run.run_number}",
            details={"status": JobStatus.FAILED, "errors": run.errors},
        )
    return run


def _drop_queued_run(session: Session, run_id: int, message: str, now: datetime) -> None:
    with transaction(session):
        run = session.get(SyncRun, run_id)
        if run is not None and run.status == JobStatus.QUEUED:
            run.status = JobStatus.FAILED
            run.finished_at = now
            run.errors = [{"step": "", "item": "", "message": message}]
