"""Ready to Import and Ready to Export: how portal projects and ERP jobs find each other.

Ready to Import: an ERP job no project has (found by the sync). **Add** creates the project
linked to it, **Link to project** ties it to a project that has no ERP job yet; the red ✕
hides it. Ready to Export: a project with no ERP job. **Accept** lets the
next sync create the job, **Reject** sends it back with a reason, **Link to existing job** ties it
to a job the ERP already has.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.erp import formats
from portal.models import (
    CostCodeUpdateRequest,
    ErpJob,
    LineExportState,
    Project,
    RequestStatus,
    UpdateRequestLine,
    User,
)
from portal.services import NotFound, ServiceError, transaction
from portal.services.audit import record_event

# Projects whose ERP job is still to be decided.
UNLINKED_STATES = ("ready_to_export", "accepted", "rejected")


def company_erp_job(session: Session, company_id: int, erp_job_id: int) -> ErpJob:
    job = session.get(ErpJob, erp_job_id)
    if job is None or job.company_id != company_id:
        raise NotFound(f"There is no ERP job with the id {erp_job_id} in your company.")
    return job


def company_project(session: Session, company_id: int, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None or project.company_id != company_id:
        raise NotFound(f"There is no project with the id {project_id} in your company.")
    return project


def _ready_to_import(job: ErpJob) -> None:
    if job.project_id is not None:
        raise ServiceError(f"ERP job {job.number} is already linked to a project.")


def unlinked_erp_jobs(session: Session, company_id: int) -> list[ErpJob]:
    return list(session.scalars(
        select(ErpJob)
        .where(ErpJob.company_id == company_id, ErpJob.project_id.is_(None))
        .order_by(ErpJob.number)
    ))


def import_erp_job(session: Session, company_id: int, erp_job_id: int, *, actor: User | None) -> Project:
    """Add: the portal project for an ERP job, linked to it."""
    job = company_erp_job(session, company_id, erp_job_id)
    _ready_to_import(job)
    existing = session.scalar(
        select(Project).where(Project.company_id == company_id, Project.number == job.number)
    )
    if existing is not None:
        raise ServiceError(
            f"Project {existing.label} already has the number {job.number}; use Link to existing "
            "job on that project instead."
        )
    with transaction(session):
        project = Project(
            company_id=company_id, number=job.number, name=job.name, erp_job_number=job.number,
            erp_link_state="linked",
        )
        session.add(project)
        session.flush()
        job.project_id = project.id
        job.hidden = False
        record_event(
            session, company_id=company_id, actor=actor, action="erp_job.import",
            object_type="project", object_id=project.id, object_label=project.label,
            project_id=project.id, details={"erp_job": job.number},
        )
    return project


def hide_erp_job(session: Session, company_id: int, erp_job_id: int, *, actor: User | None) -> ErpJob:
    """The red ✕: the job leaves Ready to Import (the sync does not bring it back)."""
    job = company_erp_job(session, company_id, erp_job_id)
    _ready_to_import(job)
    with transaction(session):
        job.hidden = True
        record_event(
            session, company_id=company_id, actor=actor, action="erp_job.hide",
            object_type="erp_job", object_id=job.id, object_label=f"{job.number} {job.name}",
        )
    return job


def _undecided(project: Project, allowed: tuple[str, ...], action: str) -> None:
    if project.erp_link_state in allowed:
        return
    where = {
        "ready_to_export": "waits under Ready to Export",
        "accepted": "is accepted: the next sync creates its ERP job",
        "rejected": "was rejected",
        "linked": f"is already linked to ERP job {project.erp_job_number}",
    }.get(project.erp_link_state, project.erp_link_state)
    raise ServiceError(f"Project {project.label} cannot be {action}: it {where}.")


def accept_project_for_export(
    session: Session, company_id: int, project_id: int, *, actor: User | None
) -> Project:
    """Accept: the next sync creates the project's ERP job."""
    project = company_project(session, company_id, project_id)
    _undecided(project, ("ready_to_export", "rejected"), "accepted")
    number = project.erp_job_number or project.number
    try:
        formats.validate_job_number(number, project.company.erp_system)
    except formats.JobNumberError as error:
        raise ServiceError(str(error)) from None
    with transaction(session):
        project.erp_link_state = "accepted"
        project.erp_link_message = None
        record_event(
            session, company_id=company_id, actor=actor, action="project.export_accept",
            object_type="project", object_id=project.id, object_label=project.label,
            project_id=project.id, details={"erp_job": number},
        )
    return project


def reject_project_for_export(
    session: Session, company_id: int, project_id: int, *, actor: User | None, reason: str
) -> Project:
    """Reject: the project goes back to its team with the reason; no ERP job is created."""
    project = company_project(session, company_id, project_id)
    _undecided(project, ("ready_to_export", "accepted"), "rejected")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(f"Give a reason for rejecting project {project.label}.")
    if len(reason) > 500:
        raise ServiceError(f"The reason is {len(reason)} characters long; 500 at most.")
    with transaction(session):
        project.erp_link_state = "rejected"
        project.erp_link_message = reason
        record_event(
            session, company_id=company_id, actor=actor, action="project.export_reject",
            object_type="project", object_id=project.id, object_label=project.label,
            project_id=project.id, details={"reason": reason},
        )
    return project


def link_project_to_erp_job(
    session: Session, company_id: int, project_id: int, erp_job_id: int, *, actor: User | None
) -> Project:
    """Link to existing job: the project uses a job the ERP already has.

    A linked project whose export failed (its job was deleted or renamed in the ERP) may move
    to another job: the job it leaves is hidden from Ready to Import, since the ERP no longer
    has it under that number as the project's job.
    """
    project = company_project(session, company_id, project_id)
    if not (project.erp_link_state == "linked" and _export_failed(session, project)):
        _undecided(project, UNLINKED_STATES, "linked to another job")
    job = company_erp_job(session, company_id, erp_job_id)
    _ready_to_import(job)
    previous = project.erp_job_number if project.erp_link_state == "linked" else None
    with transaction(session):
        for left in session.scalars(
            select(ErpJob).where(ErpJob.company_id == company_id, ErpJob.project_id == project.id)
        ):
            left.project_id = None
            left.hidden = True
        if previous is not None:
            _send_failed_lines_to(session, project, job.number, previous)
        project.erp_job_number = job.number
        project.erp_link_state = "linked"
        project.erp_link_message = None
        job.project_id = project.id
        job.hidden = False
        record_event(
            session, company_id=company_id, actor=actor, action="project.link_erp_job",
            object_type="project", object_id=project.id, object_label=project.label,
            project_id=project.id,
            details={"erp_job": job.number, "erp_job_name": job.name, "previous_erp_job": previous},
        )
    return project


def _send_failed_lines_to(session: Session, project: Project, job_number: str, previous: str) -> None:
    """The failed lines' answers were about the job the project leaves: they wait again, to be
    sent to its new job by the next sync (or Retry), and the row says so."""
    for request in session.scalars(
        select(CostCodeUpdateRequest).where(
            CostCodeUpdateRequest.project_id == project.id,
            CostCodeUpdateRequest.status == RequestStatus.FAILED,
        )
    ):
        session.execute(
            update(UpdateRequestLine)
            .where(
                UpdateRequestLine.request_id == request.id,
                UpdateRequestLine.export_state == LineExportState.FAILED,
            )
            .values(export_state=LineExportState.PENDING, export_outcome=None, export_message=None)
            .execution_options(synchronize_session=False)
        )
        request.last_error = (
            f"The export to ERP job {previous} failed; the project now uses ERP job {job_number}. "
            "Retry exports to it now, or the next sync does."
        )


def _export_failed(session: Session, project: Project) -> bool:
    return session.scalar(
        select(CostCodeUpdateRequest.id).where(
            CostCodeUpdateRequest.project_id == project.id,
            CostCodeUpdateRequest.status == RequestStatus.FAILED,
        ).limit(1)
    ) is not None


def linkable_projects(session: Session, company_id: int) -> list[Project]:
    """Projects an ERP job of Ready to Import may be linked to: those with no ERP job yet."""
    return list(session.scalars(
        select(Project)
        .where(
            Project.company_id == company_id,
            Project.archived.is_(False),
            Project.erp_link_state.in_(UNLINKED_STATES),
        )
        .order_by(Project.number)
    ))
