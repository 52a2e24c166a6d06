"""Running a refresh job: compare the lists step by step (reporting progress), then write the
changes in ONE transaction, so a refresh that fails leaves the project exactly as it was."""
from __future__ import annotations

import logging
import math
import time
from time import monotonic

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.models import JobStatus, Project, ProjectCostCode, RefreshJob, StandardCostCode, utcnow
from portal.services import NotFound, ServiceError, transaction
from portal.services.audit import record_event
from portal.services.refresh.compare import RefreshPlan, compare_code
from portal.services.refresh.jobs import (
    STALLED_MESSAGE,
    RefreshInterrupted,
    claim_queued_job,
    fail_job,
    report_progress,
)
from portal.services.refresh.write import ListIds, apply_plan

log = logging.getLogger(__name__)

# The comparison runs in about this many steps; big lists in steps of at most MAX_STEP codes.
PROGRESS_STEPS = 20
MAX_STEP = 500
# Progress (and the heartbeat) is committed after a step once this many seconds have passed since
# the last commit: often enough for the banner's 1-second poll, rarely enough that a refresh of a
# few thousand codes does not spend more time committing progress than comparing.
PROGRESS_INTERVAL = 0.25


def refresh_project_cost_codes(session: Session, job_id: int, *, step_delay: float = 0.0) -> RefreshJob:
    """Run a queued refresh job to its end: succeeded with counts, or failed with nothing changed."""
    job = session.get(RefreshJob, job_id)
    if job is None:
        raise NotFound(f"Refresh job {job_id} does not exist.")
    if not claim_queued_job(session, job_id):
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
        fail_job(session, job_id, message)
    return session.get(RefreshJob, job_id, populate_existing=True)


def _run(session: Session, job_id: int, step_delay: float) -> None:
    job = session.get(RefreshJob, job_id)
    actor = job.requested_by
    # Plain values: every commit below expires the objects, and reloading them costs queries.
    project_id, project_label = job.project.id, job.project.label
    company_id, erp_system = job.project.company.id, job.project.company.erp_system
    mask = job.project.company.mask  # a code that does not fit is skipped, named
    list_read_at = utcnow()
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
    report_progress(session, job_id, progress_total=total, progress_done=0)
    reported_at = monotonic()

    plan = RefreshPlan()
    for start in range(0, total, step):
        for standard in standard_rows[start:start + step]:
            compare_code(erp_system, standard, mine.pop(standard[0], None), plan, mask)
        if step_delay:
            time.sleep(step_delay)
        if monotonic() - reported_at >= PROGRESS_INTERVAL:
            report_progress(session, job_id, progress_done=min(total, start + step))
            reported_at = monotonic()
    # Whatever is left came from the company list once and is no longer in it: flag, never delete.
    for my_id, _, _, origin, flagged in mine.values():
        if origin == "company":
            plan.not_in_company_list += 1
            if not flagged:
                plan.to_flag.append(my_id)

    with transaction(session):
        lists = ListIds(
            project_id, company_id, [row[0] for row in project_rows],
            [row[4] for row in standard_rows],
        )
        apply_plan(session, lists, plan)
        finished = utcnow()
        counts = {
            "added": len(plan.to_add),
            "updated": len(set(plan.to_update) | set(plan.to_unflag)),
            "unchanged": plan.unchanged,
            "not_in_company_list": plan.not_in_company_list,
        }
        still_ours = session.execute(
            update(RefreshJob)
            .where(RefreshJob.id == job_id, RefreshJob.status == JobStatus.RUNNING)
            .values(status=JobStatus.SUCCEEDED, finished_at=finished, heartbeat_at=finished,
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
