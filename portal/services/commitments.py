"""Contracts and change orders queued for export to the ERP job (ERP Integrations → Commitments).

The ERP job must know a project's cost codes before a contract can use them, so a commitment
waits while the project's cost code update waits for approval; the data sync exports cost codes
before commitments.
"""
from __future__ import annotations

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, contains_eager

from portal.db.search import text_search
from portal.models import (
    Commitment,
    CommitmentStatus,
    CompanyTool,
    CostCodeUpdateRequest,
    Level,
    Project,
    RequestStatus,
    User,
    utcnow,
)
from portal.services import NotFound, PermissionDenied, ServiceError, lock_company_row, transaction
from portal.services.audit import record_event

# The reason shown beside a disabled Export, in the commitment's own row (whose state says
# that the update waits for approval).
COST_CODES_FIRST = "Update the project's cost codes first."
COMMITMENT_NOT_FOUND = "That contract or change order does not exist, or it is not part of your company."
EXPORTABLE = {CommitmentStatus.READY, CommitmentStatus.FAILED}


def export_refusal(user: User) -> str | None:
    if user.tool_level(CompanyTool.ERP_INTEGRATIONS) < Level.STANDARD:
        return "You need Standard or Admin on ERP Integrations"
    return None


def update_waiting(project_id: int):
    """SQL condition: the project has a cost code update waiting for approval (DESIGN rule 5:
    only a waiting one stops an export request; in a sync run, contracts also wait for approved
    updates not exported yet, OPEN_REQUEST_STATES)."""
    return exists().where(
        CostCodeUpdateRequest.project_id == project_id,
        CostCodeUpdateRequest.status == RequestStatus.REQUESTED,
    )


def cost_codes_first_refusal(commitment_label: str, project_label: str) -> str:
    """DESIGN rule 5's refusal, naming the commitment and its project: the user may have
    several projects' commitments on the page."""
    return (
        f"{commitment_label} of {project_label} cannot be exported yet: update the project's "
        "cost codes first (its cost code update is waiting for approval)."
    )


def get_commitment(session: Session, commitment_id: int, *, company_id: int) -> Commitment:
    commitment = session.get(Commitment, commitment_id)
    if commitment is None or commitment.company_id != company_id:
        raise NotFound(COMMITMENT_NOT_FOUND)
    return commitment


def export_commitment_request(
    session: Session, commitment_id: int, actor: User, *, company_id: int
) -> Commitment:
    """Queue a contract or change order for export at the next data sync."""
    with transaction(session):
        commitment = lock_company_row(
            session, Commitment, commitment_id, company_id=company_id, not_found=COMMITMENT_NOT_FOUND
        )
        refusal = export_refusal(actor)
        if refusal:
            raise PermissionDenied(refusal + ".")
        label = f"{commitment.kind_label} {commitment.number}"
        if commitment.status not in EXPORTABLE:
            state = (
                "already exported" if commitment.status == CommitmentStatus.EXPORTED
                else "already queued for export"
            )
            raise ServiceError(f"{label} of {commitment.project.label} is {state}.")
        if session.scalar(select(update_waiting(commitment.project_id))):
            raise ServiceError(cost_codes_first_refusal(label, commitment.project.label))
        commitment.status = CommitmentStatus.EXPORT_REQUESTED
        commitment.export_requested_by_id = actor.id
        commitment.export_requested_at = utcnow()
        commitment.export_error = None
        record_event(
            session, company_id=company_id, actor=actor, action="commitment.export_request",
            object_type="commitment", object_id=commitment.id,
            object_label=f"{label} {commitment.title}", project_id=commitment.project_id,
        )
    return commitment


# The Commitments tab lists what still needs the user: ready, queued for export, or failed.
LISTED_ON_COMMITMENTS_TAB = (
    CommitmentStatus.READY, CommitmentStatus.EXPORT_REQUESTED, CommitmentStatus.FAILED,
)


def commitments_to_export_query(company_id: int, search: str = "") -> Select:
    """The Commitments tab's rows, (commitment, update waiting), matching the search on the
    project's or the commitment's number or name, in project order."""
    query = (
        select(Commitment, update_waiting(Commitment.project_id).label("update_waiting"))
        .join(Commitment.project)
        .options(contains_eager(Commitment.project))
        .where(Commitment.company_id == company_id, Commitment.status.in_(LISTED_ON_COMMITMENTS_TAB))
    )
    if search:
        query = query.where(
            text_search(search, Project.number, Project.name, Commitment.number, Commitment.title)
        )
    return query.order_by(Project.number, Commitment.kind.desc(), Commitment.number)
