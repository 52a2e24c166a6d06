"""Refresh jobs: starting them (one active job per project), their progress, and their end.

A refresh's state lives in a RefreshJob row that any web worker can read; a job whose worker
stopped sending heartbeats is failed, and can be started again.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import (
    ACTIVE_JOB_STATES,
    Company,
    CompanyTool,
    JobStatus,
    Level,
    Project,
    RefreshJob,
    User,
    utcnow,
)
from portal.services import NotFound, PermissionDenied, ServiceError, transaction
from portal.services.audit import record_event

ACTIVE_STATES = ACTIVE_JOB_STATES
STALL_AFTER = timedelta(minutes=1)
STALLED_MESSAGE = "The refresh stopped unexpectedly; nothing was changed. Try again."
# A job no worker picked up (worker not running) would block the project's refreshes forever.
NEVER_STARTED_AFTER = timedelta(minutes=15)
NEVER_STARTED_MESSAGE = (
    "The refresh did not start: no background worker picked it up within 15 minutes; "
    "nothing was changed. Check that the portal's worker is running, then try again."
)


def project_is_out_of_date(project: Project) -> bool:
    """The company list changed after the project's last refresh (or it was never refreshed)."""
    if project.cost_codes_refreshed_at is None:
        return True
    changed = project.company.standard_codes_changed_at
    return changed is not None and changed > project.cost_codes_refreshed_at


def out_of_date_clause(company: Company):
    """The same rule as project_is_out_of_date, as a WHERE clause for a company's projects."""
    clause = Project.cost_codes_refreshed_at.is_(None)
    if company.standard_codes_changed_at is not None:
        clause = or_(clause, Project.cost_codes_refreshed_at < company.standard_codes_changed_at)
    return clause


def _require_project_admin(project: Project, actor: User) -> None:
    if actor.company_id != project.company_id:
        raise NotFound("That project does not exist, or it is not part of your company.")
    if actor.project_level(project.id) < Level.ADMIN:
        raise PermissionDenied(
            f"You need Admin on the Admin tool of {project.label} to refresh its cost codes."
        )


def active_refresh(session: Session, project_id: int) -> RefreshJob | None:
    return session.scalar(
        select(RefreshJob).where(
            RefreshJob.project_id == project_id, RefreshJob.status.in_(ACTIVE_STATES)
        )
    )


def latest_refresh(session: Session, project_id: int) -> RefreshJob | None:
    """The project's running job if there is one, else its most recent one."""
    return active_refresh(session, project_id) or session.scalar(
        select(RefreshJob)
        .where(RefreshJob.project_id == project_id)
        .order_by(RefreshJob.created_at.desc(), RefreshJob.id.desc())
        .limit(1)
    )


def start_project_refresh(
    session: Session, project: Project, actor: User, *, batch_id: str | None = None
) -> RefreshJob:
    """Queue a refresh of the project, or return the one already queued or running.

    The partial unique index on refresh_jobs makes "one active job per project" hold even when
    several requests arrive at the same instant: the loser of the race gets the winner's job.
    """
    _require_project_admin(project, actor)
    return _queue_refresh(session, project, actor, batch_id)


def _queue_refresh(
    session: Session, project: Project, actor: User, batch_id: str | None
) -> RefreshJob:
    existing = active_refresh(session, project.id)
    if existing is not None:
        return existing
    try:
        with transaction(session):
            job = RefreshJob(
                company_id=project.company_id, project_id=project.id, requested_by_id=actor.id,
                batch_id=batch_id, status=JobStatus.QUEUED, skipped=[],
            )
            session.add(job)
            session.flush()
            record_event(
                session, company_id=project.company_id, actor=actor,
                action="project.refresh_cost_codes.start", object_type="project",
                object_id=project.id, object_label=project.label, project_id=project.id,
                details={"job": job.id, **({"batch": batch_id} if batch_id else {})},
            )
    except IntegrityError:
        existing = active_refresh(session, project.id)
        if existing is None:
            raise
        return existing
    return job


def out_of_date_projects(session: Session, company: Company) -> list[Project]:
    """The company's projects that Refresh all projects would refresh, in number order."""
    return list(session.scalars(
        select(Project)
        .where(Project.company_id == company.id, Project.archived.is_(False))
        .where(out_of_date_clause(company))
        .order_by(Project.number)
    ))


@dataclass
class RefreshBatch:
    batch_id: str
    jobs: list[RefreshJob] = field(default_factory=list)


def start_refresh_all_projects(session: Session, company: Company, actor: User) -> RefreshBatch:
    """Refresh all projects: one job per out-of-date project of the company, under one batch id."""
    if actor.company_id != company.id or actor.tool_level(CompanyTool.COMPANY_ADMIN) < Level.ADMIN:
        raise PermissionDenied("You need Admin on the Company Admin tool to refresh all projects.")
    projects = out_of_date_projects(session, company)
    batch = RefreshBatch(batch_id=str(uuid.uuid4()))
    for project in projects:
        job = _queue_refresh(session, project, actor, batch.batch_id)
        if job.batch_id is None:
            # A refresh someone started on the project page already covers it: follow it here.
            with transaction(session):
                job.batch_id = batch.batch_id
        batch.jobs.append(job)
    with transaction(session):
        record_event(
            session, company_id=company.id, actor=actor, action="company.refresh_all_projects",
            object_type="company", object_id=company.id, object_label=company.name,
            details={"batch": batch.batch_id, "projects": [p.label for p in projects]},
        )
    return batch


def batch_jobs(session: Session, company: Company, batch_id: str) -> list[RefreshJob]:
    jobs = session.scalars(
        select(RefreshJob)
        .join(Project, Project.id == RefreshJob.project_id)
        .where(RefreshJob.company_id == company.id, RefreshJob.batch_id == batch_id)
        .order_by(Project.number)
    ).all()
    if not jobs:
        raise NotFound("That refresh does not exist, or it is not part of your company.")
    return list(jobs)


def active_batch_id(session: Session, company: Company) -> str | None:
    return session.scalar(
        select(RefreshJob.batch_id)
        .where(
            RefreshJob.company_id == company.id, RefreshJob.batch_id.is_not(None),
            RefreshJob.status.in_(ACTIVE_STATES),
        )
        .order_by(RefreshJob.created_at.desc())
        .limit(1)
    )


class RefreshInterrupted(ServiceError):
    """The job stopped being ours (marked failed as stalled) while it ran."""


def _now() -> datetime:
    return utcnow()


def claim_queued_job(session: Session, job_id: int) -> bool:
    """queued -> running, for exactly one worker even if the task was enqueued twice."""
    now = _now()
    with transaction(session):
        claimed = session.execute(
            update(RefreshJob)
            .where(RefreshJob.id == job_id, RefreshJob.status == JobStatus.QUEUED)
            .values(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    return claimed == 1


def report_progress(session: Session, job_id: int, **values) -> None:
    """Commit progress on its own, so every web worker's poll sees it while the job runs."""
    with transaction(session):
        still_ours = session.execute(
            update(RefreshJob)
            .where(RefreshJob.id == job_id, RefreshJob.status == JobStatus.RUNNING)
            .values(heartbeat_at=_now(), **values)
            .execution_options(synchronize_session=False)
        ).rowcount
    if not still_ours:
        raise RefreshInterrupted(STALLED_MESSAGE)


def fail_job(session: Session, job_id: int, message: str) -> None:
    with transaction(session):
        failed_now = session.execute(
            update(RefreshJob)
            .where(RefreshJob.id == job_id, RefreshJob.status.in_(ACTIVE_STATES))
            .values(status=JobStatus.FAILED, error=message[:1000], finished_at=_now())
            .execution_options(synchronize_session=False)
        ).rowcount
        if not failed_now:
            return  # someone else already ended it (and recorded why)
        job = session.get(RefreshJob, job_id)
        record_event(
            session, company_id=job.company_id, actor=None,
            action="project.refresh_cost_codes.fail", object_type="project",
            object_id=job.project_id, object_label=job.project.label, project_id=job.project_id,
            details={"job": job_id, "error": message[:500]},
        )


def fail_stalled_refreshes(
    session: Session, now: datetime | None = None, *, project_id: int | None = None
) -> list[int]:
    """Mark running jobs whose worker stopped sending heartbeats as failed; they can be retried.

    Nothing needs undoing: the code changes are written only in the job's final transaction.
    Jobs that waited in the queue far too long are failed too, with their own message.
    """
    now = now or _now()
    stalled = or_(
        RefreshJob.heartbeat_at < now - STALL_AFTER,
        RefreshJob.heartbeat_at.is_(None) & (RefreshJob.started_at < now - STALL_AFTER),
    )
    query = select(RefreshJob.id, RefreshJob.status).where(
        or_(
            (RefreshJob.status == JobStatus.RUNNING) & stalled,
            (RefreshJob.status == JobStatus.QUEUED) & (RefreshJob.created_at < now - NEVER_STARTED_AFTER),
        )
    )
    if project_id is not None:
        query = query.where(RefreshJob.project_id == project_id)
    found = session.execute(query).all()
    for job_id, status in found:
        fail_job(
            session, job_id, STALLED_MESSAGE if status == JobStatus.RUNNING else NEVER_STARTED_MESSAGE
        )
    if not found:
        session.commit()  # end the read transaction (SQLite holds its lock otherwise)
    return [job_id for job_id, _ in found]


def result_summary(job: RefreshJob) -> str:
    """The short result that stays after the banner goes."""
    text = (
        f"Refresh complete: {job.added} added, {job.updated} descriptions updated, "
        f"{job.not_in_company_list} no longer in the company list"
    )
    if job.skipped:
        codes = ", ".join(item["code"] for item in job.skipped)
        text += f"; skipped {len(job.skipped)} that break the code format: {codes}"
    return text + "."
