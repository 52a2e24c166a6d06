"""Refresh Cost Codes: bring a project's Cost Code segment in line with the company list.

A refresh runs in the background (a huey task) while the page shows its progress, so its state
lives in a RefreshJob row that any web worker can read. Progress is committed step by step; the
code changes themselves are ONE transaction at the end, so a refresh that fails (or a worker that
dies) leaves the project exactly as it was.
"""
from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import monotonic

from sqlalchemy import DateTime, and_, false, func, insert, literal, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.bulk import slices
from portal.erp.formats import CostCodeFormatError, CostCodeMask, validate_cost_code
from portal.models import (
    Company,
    CompanyTool,
    Level,
    Project,
    ProjectCostCode,
    RefreshJob,
    StandardCostCode,
    User,
    utcnow,
)
from portal.services import NotFound, PermissionDenied, ServiceError, transaction
from portal.services.audit import record_event

log = logging.getLogger(__name__)

ACTIVE_STATES = ("queued", "running")
STALL_AFTER = timedelta(minutes=1)
STALLED_MESSAGE = "The refresh stopped unexpectedly; nothing was changed. Try again."
# A job no worker picked up (worker not running) would block the project's refreshes forever.
NEVER_STARTED_AFTER = timedelta(minutes=15)
NEVER_STARTED_MESSAGE = (
    "The refresh did not start: no background worker picked it up within 15 minutes; "
    "nothing was changed. Check that the portal's worker is running, then try again."
)
# The comparison runs in about this many steps; big lists in steps of at most MAX_STEP codes.
PROGRESS_STEPS = 20
MAX_STEP = 500
# Progress (and the heartbeat) is committed after a step once this many seconds have passed since
# the last commit: often enough for the banner's 1-second poll, rarely enough that a refresh of a
# few thousand codes does not spend more time committing progress than comparing.
PROGRESS_INTERVAL = 0.25
# Bulk statements are cut into pieces of this many rows (SQLite's bound-parameter limit).
WRITE_BATCH = 2000
# Rows to write that are neighbours in their list, this many or more, are named by their first
# and last id (BETWEEN) rather than one by one; at most RANGES_PER_STATEMENT per statement.
RANGE_AT_LEAST = 16
RANGES_PER_STATEMENT = 100


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
                batch_id=batch_id, status="queued", skipped=[],
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


@dataclass
class RefreshBatch:
    batch_id: str
    jobs: list[RefreshJob] = field(default_factory=list)


def start_refresh_all_projects(session: Session, company: Company, actor: User) -> RefreshBatch:
    """Refresh all projects: one job per out-of-date project of the company, under one batch id."""
    if actor.company_id != company.id or actor.tool_level(CompanyTool.COMPANY_ADMIN) < Level.ADMIN:
        raise PermissionDenied("You need Admin on the Company Admin tool to refresh all projects.")
    projects = session.scalars(
        select(Project)
        .where(Project.company_id == company.id, Project.archived.is_(False))
        .where(out_of_date_clause(company))
        .order_by(Project.number)
    ).all()
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


# --- the refresh itself ---


@dataclass
class _Plan:
    """What the refresh will write, gathered before the one transaction that writes it."""

    to_add: list[int] = field(default_factory=list)  # ids of the company codes to add
    to_update: list[int] = field(default_factory=list)  # project codes whose description changed
    to_flag: list[int] = field(default_factory=list)
    to_unflag: list[int] = field(default_factory=list)
    unchanged: int = 0
    not_in_company_list: int = 0
    skipped: list[dict] = field(default_factory=list)


class RefreshInterrupted(ServiceError):
    """The job stopped being ours (marked failed as stalled) while it ran."""


def _now() -> datetime:
    return utcnow()


def _claim(session: Session, job_id: int) -> bool:
    """queued -> running, for exactly one worker even if the task was enqueued twice."""
    now = _now()
    with transaction(session):
        claimed = session.execute(
            update(RefreshJob)
            .where(RefreshJob.id == job_id, RefreshJob.status == "queued")
            .values(status="running", started_at=now, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    return claimed == 1


def _report_progress(session: Session, job_id: int, **values) -> None:
    """Commit progress on its own, so every web worker's poll sees it while the job runs."""
    with transaction(session):
        still_ours = session.execute(
            update(RefreshJob)
            .where(RefreshJob.id == job_id, RefreshJob.status == "running")
            .values(heartbeat_at=_now(), **values)
            .execution_options(synchronize_session=False)
        ).rowcount
    if not still_ours:
        raise RefreshInterrupted(STALLED_MESSAGE)


def _compare(
    erp_system: str, standard: tuple, mine: tuple | None, plan: _Plan,
    mask: CostCodeMask | None = None,
) -> None:
    code, description, active, archived, standard_id, invalid_reason = standard
    if mine is None:
        if not active or archived:
            return  # archived and inactive codes are not added to projects that lack them
        if invalid_reason:  # the ERP would refuse it as stored: listed, not added
            plan.skipped.append({"code": code, "reason": invalid_reason})
            return
        if _skipped(erp_system, code, plan, mask):
            return
        plan.to_add.append(standard_id)
        return
    my_id, _, my_description, origin, flagged = mine
    if origin != "company":
        plan.unchanged += 1  # a project-only code is the project's own: untouched
        return
    changed = False
    if flagged:
        plan.to_unflag.append(my_id)  # it is back in the company list
        changed = True
    if my_description != description and not archived:
        if _skipped(erp_system, code, plan, mask):
            return
        plan.to_update.append(my_id)
        changed = True
    if not changed:
        plan.unchanged += 1


def _skipped(erp_system: str, code: str, plan: _Plan, mask: CostCodeMask | None = None) -> bool:
    try:
        validate_cost_code(erp_system, code, mask)
    except CostCodeFormatError as error:
        plan.skipped.append({"code": code, "reason": str(error)})
        return True
    return False


def refresh_project_cost_codes(session: Session, job_id: int, *, step_delay: float = 0.0) -> RefreshJob:
    """Run a queued refresh job to its end: succeeded with counts, or failed with nothing changed."""
    job = session.get(RefreshJob, job_id)
    if job is None:
        raise NotFound(f"Refresh job {job_id} does not exist.")
    if not _claim(session, job_id):
        session.refresh(job)
        return job  # already run (or running) elsewhere: a duplicate task is harmless
    try:
        _run(session, job_id, step_delay)
    except Exception as error:  # noqa: BLE001 (any failure must end as a failed job)
        session.rollback()
        if not isinstance(error, ServiceError):
            log.exception("Refresh job %s failed", job_id)
        message = str(error) if isinstance(error, ServiceError) else (
            f"The refresh failed ({type(error).__name__}); nothing was changed. Try again."
        )
        _finish_failed(session, job_id, message)
    return session.get(RefreshJob, job_id, populate_existing=True)


def _run(session: Session, job_id: int, step_delay: float) -> None:
    job = session.get(RefreshJob, job_id)
    actor = job.requested_by
    # Plain values: every commit below expires the objects, and reloading them costs queries.
    project_id, project_label = job.project.id, job.project.label
    company_id, erp_system = job.project.company.id, job.project.company.erp_system
    mask = job.project.company.mask  # a code that does not fit is skipped, named
    list_read_at = _now()
    # Both lists are read through the tables' columns: plain rows, no ORM loading per row.
    # Both in id order, so that the rows to write can be named as runs of neighbours.
    company_list = StandardCostCode.__table__.c
    standard_rows = session.execute(
        select(
            company_list.code, company_list.description, company_list.active,
            company_list.archived, company_list.id, company_list.invalid_reason,
        ).where(company_list.company_id == company_id).order_by(company_list.id)
    ).all()
    project_list = ProjectCostCode.__table__.c
    project_rows = session.execute(
        select(
            project_list.id, project_list.code, project_list.description, project_list.origin,
            project_list.not_in_company_list,
        ).where(project_list.project_id == project_id).order_by(project_list.id)
    ).all()
    session.commit()  # end the read transaction: the progress steps below commit on their own
    mine = {row[1]: row for row in project_rows}
    total = len(standard_rows)
    step = max(1, min(MAX_STEP, math.ceil(total / PROGRESS_STEPS)))
    _report_progress(session, job_id, progress_total=total, progress_done=0)
    reported_at = monotonic()

    plan = _Plan()
    for start in range(0, total, step):
        for standard in standard_rows[start:start + step]:
            _compare(erp_system, standard, mine.pop(standard[0], None), plan, mask)
        if step_delay:
            time.sleep(step_delay)
        if monotonic() - reported_at >= PROGRESS_INTERVAL:
            _report_progress(session, job_id, progress_done=min(total, start + step))
            reported_at = monotonic()
    # Whatever is left came from the company list once and is no longer in it: flag, never delete.
    for my_id, _, _, origin, flagged in mine.values():
        if origin == "company":
            plan.not_in_company_list += 1
            if not flagged:
                plan.to_flag.append(my_id)

    with transaction(session):
        lists = _Lists(
            project_id, company_id, [row[0] for row in project_rows],
            [row[4] for row in standard_rows],
        )
        _apply(session, lists, plan)
        finished = _now()
        counts = {
            "added": len(plan.to_add),
            "updated": len(set(plan.to_update) | set(plan.to_unflag)),
            "unchanged": plan.unchanged,
            "not_in_company_list": plan.not_in_company_list,
        }
        still_ours = session.execute(
            update(RefreshJob)
            .where(RefreshJob.id == job_id, RefreshJob.status == "running")
            .values(status="succeeded", finished_at=finished, heartbeat_at=finished,
                    progress_done=total, skipped=plan.skipped, **counts)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not still_ours:
            raise RefreshInterrupted(STALLED_MESSAGE)
        session.execute(
            update(Project).where(Project.id == project_id)
            .values(cost_codes_refreshed_at=list_read_at)
            .execution_options(synchronize_session=False)
        )
        record_event(
            session, company_id=company_id, actor=actor, action="project.refresh_cost_codes",
            object_type="project", object_id=project_id, object_label=project_label,
            project_id=project_id,
            details={"job": job_id, **counts, "skipped": [item["code"] for item in plan.skipped]},
        )
    session.expire_all()


@dataclass
class _Lists:
    """Where the rows named by a plan live: the project's and the company's ids as read, ascending."""

    project_id: int
    company_id: int
    project_ids: list[int]
    company_ids: list[int]


def _apply(session: Session, lists: _Lists, plan: _Plan) -> None:
    _add_codes(session, lists, plan.to_add)
    _update_descriptions(session, lists, plan.to_update)
    _set_flags(session, lists, plan.to_flag, True)
    _set_flags(session, lists, plan.to_unflag, False)




def _picking(column, scope, chosen: list[int], ordered_ids: list[int]) -> list:
    """WHERE clauses that between them pick exactly the chosen rows, for one statement each.

    Runs of RANGE_AT_LEAST or more neighbours in ordered_ids (the scope's ids as read, ascending)
    are named by their ends, "scope AND id BETWEEN first AND last" (an empty project's whole list
    is one run); the rest by id, IN batches. A run covers no row but its own: rows created later
    get higher ids. Rendering 2,000-id IN lists was most of the Python cost of a big refresh.
    """
    if not chosen:
        return []
    position = {row_id: index for index, row_id in enumerate(ordered_ids)}
    runs: list[list[int]] = []
    for row_id in sorted(chosen, key=position.__getitem__):
        if runs and position[row_id] == position[runs[-1][-1]] + 1:
            runs[-1].append(row_id)
        else:
            runs.append([row_id])
    singles = [row_id for run in runs if len(run) < RANGE_AT_LEAST for row_id in run]
    ranges = [(run[0], run[-1]) for run in runs if len(run) >= RANGE_AT_LEAST]
    clauses = [column.in_(batch) for batch in slices(singles, WRITE_BATCH)]
    for start in range(0, len(ranges), RANGES_PER_STATEMENT):
        clauses.append(and_(scope, or_(*(
            column.between(first, last) for first, last in ranges[start:start + RANGES_PER_STATEMENT]
        ))))
    return clauses


def _add_codes(session: Session, lists: _Lists, standard_ids: list[int]) -> None:
    # INSERT ... SELECT: the database copies the company rows itself; Python only names them
    # (an executemany of 20,000 parameter sets spent most of its time binding parameters).
    codes = StandardCostCode.__table__.c
    copied = select(
        literal(lists.project_id), codes.id, codes.code, codes.description, codes.division,
        true(), literal("company"), false(), literal(_now(), DateTime()),
    )
    target = insert(ProjectCostCode.__table__)
    columns = [
        "project_id", "standard_cost_code_id", "code", "description", "division", "active",
        "origin", "not_in_company_list", "created_at",
    ]
    for clause in _picking(
        codes.id, codes.company_id == lists.company_id, standard_ids, lists.company_ids
    ):
        session.execute(target.from_select(columns, copied.where(clause)))


def _update_descriptions(session: Session, lists: _Lists, ids: list[int]) -> None:
    # Each UPDATE copies the descriptions from the company list in the database (a correlated
    # subquery), instead of an executemany of one parameter set per code.
    mine, company_list = ProjectCostCode.__table__, StandardCostCode.__table__.c
    current = (
        select(company_list.description)
        .where(company_list.company_id == lists.company_id, company_list.code == mine.c.code)
        .scalar_subquery()
    )
    for clause in _picking(
        mine.c.id, mine.c.project_id == lists.project_id, ids, lists.project_ids
    ):
        session.execute(
            update(mine).where(clause)
            # A code dropped from the list meanwhile keeps its description (flagged next time).
            .values(description=func.coalesce(current, mine.c.description))
        )


def _set_flags(session: Session, lists: _Lists, ids: list[int], flagged: bool) -> None:
    mine = ProjectCostCode.__table__
    for clause in _picking(
        mine.c.id, mine.c.project_id == lists.project_id, ids, lists.project_ids
    ):
        session.execute(update(mine).where(clause).values(not_in_company_list=flagged))


def _finish_failed(session: Session, job_id: int, message: str) -> None:
    with transaction(session):
        failed_now = session.execute(
            update(RefreshJob)
            .where(RefreshJob.id == job_id, RefreshJob.status.in_(ACTIVE_STATES))
            .values(status="failed", error=message[:1000], finished_at=_now())
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
            (RefreshJob.status == "running") & stalled,
            (RefreshJob.status == "queued") & (RefreshJob.created_at < now - NEVER_STARTED_AFTER),
        )
    )
    if project_id is not None:
        query = query.where(RefreshJob.project_id == project_id)
    found = session.execute(query).all()
    for job_id, status in found:
        _finish_failed(
            session, job_id, STALLED_MESSAGE if status == "running" else NEVER_STARTED_MESSAGE
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
