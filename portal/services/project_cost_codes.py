"""The project side of cost code updates: add company codes and cost types, then Send to ERP.

A cost type assignment moves new (added on the project, may still be removed) -> requested (a
line of the project's open request) -> approved -> exported. Only "new" assignments are the
project's to change; once sent, a code's assignments only grow.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal.db.search import text_search
from portal.erp.formats import code_order_key, in_code_order
from portal.models import (
    AssignmentErpState,
    CostCodeUpdateRequest,
    CostType,
    CostTypeAssignment,
    Project,
    ProjectCostCode,
    RequestStatus,
    StandardCostCode,
    UpdateRequestLine,
    User,
)
from portal.services import NotFound, ServiceError, transaction
from portal.services.audit import record_event
from portal.services.notifications import queue_approval_wanted_mail

# A code is known to the ERP job once one of its assignments was approved for export.
SENT_TO_JOB_STATES = (AssignmentErpState.APPROVED, AssignmentErpState.EXPORTED)
CONCURRENT_CHANGE = (
    "The project's cost codes were changed by someone else at the same moment. "
    "Reload the page and try again."
)


@dataclass
class AddResult:
    added: list[str] = field(default_factory=list)  # "2010.000 Demolition"
    skipped: list[str] = field(default_factory=list)  # codes the project already had
    refused: list[str] = field(default_factory=list)  # "16100.000 Site Lighting is archived …"


def code_label(code: StandardCostCode | ProjectCostCode) -> str:
    return f"{code.code} {code.description}"


def _company_cost_types(session: Session, project: Project, ids: set[int]) -> dict[int, CostType]:
    found = {
        cost_type.id: cost_type
        for cost_type in session.scalars(
            select(CostType).where(CostType.company_id == project.company_id, CostType.id.in_(ids))
        )
    }
    unknown = sorted(ids - set(found))
    if unknown:
        raise ServiceError(
            f"Cost type #{unknown[0]} is not a cost type of {project.company.name}; "
            "reload the page and choose from the list."
        )
    return found


def _unaddable_reason(standard: StandardCostCode) -> str | None:
    if standard.archived:
        return "is archived in the company list and cannot be added"
    if not standard.active:
        return "is inactive in the company list and cannot be added"
    if standard.invalid_reason:
        return f"cannot be added: {standard.invalid_reason}"
    return None


def add_company_codes_to_project(
    session: Session, project: Project, actor: User, selections: dict[int, set[int]]
) -> AddResult:
    """Adds the selected company codes the project lacks, each with its chosen cost types.

    A code that cannot be added (archived, inactive, no cost type chosen) is named in
    `refused` and the rest of the selection goes on (DESIGN rule 8); when nothing at all can be
    added the whole form is refused with those reasons. Ids from outside the company's list
    mean a tampered or stale form, so the selection is refused as a whole.
    """
    if not selections:
        raise ServiceError("Select at least one cost code to add.")
    standards = {
        standard.id: standard
        for standard in session.scalars(
            select(StandardCostCode).where(
                StandardCostCode.company_id == project.company_id,
                StandardCostCode.id.in_(selections),
            )
        )
    }
    unknown = sorted(set(selections) - set(standards))
    if unknown:
        raise ServiceError(
            f"Cost code #{unknown[0]} is not in {project.company.name}'s company list; "
            "reload the page and choose from the list."
        )
    cost_types = _company_cost_types(session, project, set().union(*selections.values()))
    result = AddResult()
    ordered = []
    for standard in sorted(standards.values(), key=lambda standard: code_order_key(standard.code)):
        reason = _unaddable_reason(standard)
        if reason:
            result.refused.append(f"{code_label(standard)} {reason}")
        elif not selections[standard.id]:
            result.refused.append(f"Choose at least one cost type for {code_label(standard)}")
        else:
            ordered.append(standard)
    if not ordered:
        raise ServiceError("; ".join(result.refused) + ".")

    existing = set(
        session.scalars(select(ProjectCostCode.code).where(ProjectCostCode.project_id == project.id))
    )
    try:
        with transaction(session):
            for standard in ordered:
                if standard.code in existing:
                    result.skipped.append(code_label(standard))
                    continue
                cost_code = ProjectCostCode(
                    project_id=project.id, standard_cost_code_id=standard.id, code=standard.code,
                    description=standard.description, division=standard.division, origin="company",
                )
                cost_code.assignments.extend(
                    CostTypeAssignment(cost_type=cost_types[cost_type_id], erp_state=AssignmentErpState.NEW)
                    for cost_type_id in sorted(selections[standard.id])
                )
                session.add(cost_code)
                result.added.append(code_label(standard))
            if result.added:
                session.flush()
                record_event(
                    session, company_id=project.company_id, actor=actor,
                    action="project_cost_code.add_from_company", object_type="project",
                    object_id=project.id, object_label=project.label, project_id=project.id,
                    details={"added": result.added, "skipped": result.skipped, "refused": result.refused},
                )
    except IntegrityError as error:
        raise ServiceError(CONCURRENT_CHANGE) from error
    return result


def _project_code(session: Session, project: Project, project_cost_code_id: int) -> ProjectCostCode:
    cost_code = session.get(ProjectCostCode, project_cost_code_id)
    if cost_code is None or cost_code.project_id != project.id:
        raise NotFound(f"Cost code #{project_cost_code_id} is not a cost code of {project.label}.")
    return cost_code


def add_cost_types_to_code(
    session: Session, project: Project, actor: User, project_cost_code_id: int,
    cost_type_ids: set[int],
) -> list[CostTypeAssignment]:
    """Ties more cost types to one of the project's codes; they wait, "new", for Send to ERP."""
    cost_code = _project_code(session, project, project_cost_code_id)
    if not cost_code.active:
        raise ServiceError(f"{code_label(cost_code)} is inactive on {project.label}: make it active first.")
    if not cost_type_ids:
        raise ServiceError(f"Choose a cost type to add to {code_label(cost_code)}.")
    cost_types = _company_cost_types(session, project, set(cost_type_ids))
    assigned = {assignment.cost_type_id for assignment in cost_code.assignments}
    added = [
        CostTypeAssignment(cost_type=cost_types[cost_type_id], erp_state=AssignmentErpState.NEW)
        for cost_type_id in sorted(cost_type_ids)
        if cost_type_id not in assigned
    ]
    try:
        with transaction(session):
            cost_code.assignments.extend(added)
            if added:
                record_event(
                    session, company_id=project.company_id, actor=actor,
                    action="project_cost_code.add_cost_type", object_type="project_cost_code",
                    object_id=cost_code.id, object_label=code_label(cost_code),
                    project_id=project.id,
                    details={"cost_types": [assignment.cost_type.label for assignment in added]},
                )
    except IntegrityError as error:
        raise ServiceError(CONCURRENT_CHANGE) from error
    return added


def remove_unsent_cost_type(
    session: Session, project: Project, actor: User, project_cost_code_id: int, cost_type_id: int
) -> None:
    """Unties a cost type that was never sent to the ERP; sent ones stay (assignments only grow)."""
    cost_code = _project_code(session, project, project_cost_code_id)
    assignment = next(
        (item for item in cost_code.assignments if item.cost_type_id == cost_type_id), None
    )
    if assignment is None:
        return  # already gone: removing twice has one effect
    label = f"{assignment.cost_type.label} on {code_label(cost_code)}"
    if assignment.erp_state != AssignmentErpState.NEW:
        raise ServiceError(f"{label} has been sent to the ERP and can no longer be removed.")
    with transaction(session):
        # Only while still "new": a Send to ERP running at the same moment wins.
        removed = session.execute(
            delete(CostTypeAssignment).where(
                CostTypeAssignment.id == assignment.id, CostTypeAssignment.erp_state == AssignmentErpState.NEW
            )
        ).rowcount
        if removed != 1:
            raise ServiceError(f"{label} has just been sent to the ERP and can no longer be removed.")
        record_event(
            session, company_id=project.company_id, actor=actor,
            action="project_cost_code.remove_cost_type", object_type="project_cost_code",
            object_id=cost_code.id, object_label=code_label(cost_code), project_id=project.id,
            details={"cost_type": assignment.cost_type.label},
        )


def unsent_assignments(session: Session, project: Project) -> list[CostTypeAssignment]:
    return list(
        session.scalars(
            select(CostTypeAssignment)
            .join(ProjectCostCode)
            .where(
                ProjectCostCode.project_id == project.id,
                CostTypeAssignment.erp_state == AssignmentErpState.NEW,
            )
            .options(
                selectinload(CostTypeAssignment.cost_type),
                selectinload(CostTypeAssignment.cost_code).selectinload(ProjectCostCode.assignments),
            )
            .order_by(*in_code_order(ProjectCostCode.code), CostTypeAssignment.id)
        )
    )


def unsent_count(session: Session, project: Project) -> int:
    return session.scalar(
        select(func.count())
        .select_from(CostTypeAssignment)
        .join(ProjectCostCode)
        .where(
            ProjectCostCode.project_id == project.id,
            CostTypeAssignment.erp_state == AssignmentErpState.NEW,
        )
    ) or 0


def open_update_request(session: Session, project: Project) -> CostCodeUpdateRequest | None:
    return session.scalar(
        select(CostCodeUpdateRequest).where(
            CostCodeUpdateRequest.project_id == project.id,
            CostCodeUpdateRequest.status == RequestStatus.REQUESTED,
        )
    )


def latest_update_request(session: Session, project: Project) -> CostCodeUpdateRequest | None:
    """The request whose state the project page shows: the open one, else the last one."""
    return open_update_request(session, project) or session.scalar(
        select(CostCodeUpdateRequest)
        .where(CostCodeUpdateRequest.project_id == project.id)
        .order_by(CostCodeUpdateRequest.requested_at.desc(), CostCodeUpdateRequest.id.desc())
        .limit(1)
    )


def send_updates_to_erp(
    session: Session, project: Project, actor: User, *,
    assignments: list[CostTypeAssignment] | None = None,
    also: Callable[[], object] | None = None,
) -> CostCodeUpdateRequest:
    """Sends every new code and cost type of the project for approval, as lines of its request.

    One open request per project: while one waits for approval, sending again adds to it.
    The differences report sends only some `assignments` (new ones, or exported ones its ERP
    job has lost) and does `also` in the same transaction.
    """
    pending = unsent_assignments(session, project) if assignments is None else assignments
    sendable = (
        (AssignmentErpState.NEW,) if assignments is None
        else (AssignmentErpState.NEW, AssignmentErpState.EXPORTED)
    )
    if not pending:
        raise ServiceError(
            f"Nothing to send: every cost code and cost type of {project.label} "
            "has already been sent to the ERP."
        )
    try:
        with transaction(session):
            request = open_update_request(session, project)
            if request is None:
                request = CostCodeUpdateRequest(
                    company_id=project.company_id, project_id=project.id, requested_by_id=actor.id
                )
                session.add(request)
                session.flush()  # the one-open-request index refuses a second one here
            else:
                # Locks the request while it is still open, so an approval at the same moment
                # either sees these lines or happens before them (and this send starts anew).
                still_open = session.execute(
                    update(CostCodeUpdateRequest)
                    .where(
                        CostCodeUpdateRequest.id == request.id,
                        CostCodeUpdateRequest.status == RequestStatus.REQUESTED,
                    )
                    .values(status=RequestStatus.REQUESTED)
                ).rowcount
                if still_open != 1:
                    raise ServiceError(CONCURRENT_CHANGE)
            sent_ids = {assignment.id for assignment in pending}
            for assignment in pending:
                cost_code = assignment.cost_code
                # (an exported assignment sent again is not on the job: the job lost it)
                known_to_job = any(
                    other.erp_state in SENT_TO_JOB_STATES and other.id not in sent_ids
                    for other in cost_code.assignments
                )
                session.add(UpdateRequestLine(
                    request_id=request.id, project_cost_code_id=cost_code.id,
                    assignment_id=assignment.id, code=cost_code.code,
                    description=cost_code.description, division=cost_code.division,
                    cost_type_code=assignment.cost_type.code,
                    change="new_cost_type" if known_to_job else "new_code",
                ))
            moved = session.execute(
                update(CostTypeAssignment)
                .where(
                    CostTypeAssignment.id.in_([assignment.id for assignment in pending]),
                    CostTypeAssignment.erp_state.in_(sendable),
                )
                .values(erp_state=AssignmentErpState.REQUESTED)
                .execution_options(synchronize_session="fetch")
            ).rowcount
            if moved != len(pending):
                raise ServiceError(CONCURRENT_CHANGE)
            record_event(
                session, company_id=project.company_id, actor=actor,
                action="cost_code_update.request", object_type="cost_code_update_request",
                object_id=request.id, object_label=project.label, project_id=project.id,
                details={"lines": len(pending), "codes": sorted(
                    {assignment.cost_code.code for assignment in pending}
                )},
            )
            queue_approval_wanted_mail(session, request, actor)  # issue 17: tell the approvers
            if also is not None:
                also()
    except IntegrityError as error:
        raise ServiceError(CONCURRENT_CHANGE) from error
    return request


def company_codes_query(project: Project, search: str = "") -> Select:
    """The company list's codes the project does not have yet (archived ones too, to say why),
    in the ERP's order (`in_code_order`): by division, then code. A query, so that a large list
    can be paged."""
    query = select(StandardCostCode).where(
        StandardCostCode.company_id == project.company_id,
        StandardCostCode.code.not_in(
            select(ProjectCostCode.code).where(ProjectCostCode.project_id == project.id)
        ),
    )
    if search:
        query = query.where(text_search(
            search, StandardCostCode.code, StandardCostCode.description, StandardCostCode.division_name
        ))
    return query.order_by(*in_code_order(StandardCostCode.division), *in_code_order(StandardCostCode.code))


@dataclass
class Division:
    key: str
    name: str
    codes: list[StandardCostCode]

    @property
    def addable_count(self) -> int:
        return sum(1 for code in self.codes if code.addable)


def group_by_division(codes: list[StandardCostCode]) -> list[Division]:
    """Consecutive codes of one division in one group; the order of `codes` is kept."""
    divisions: list[Division] = []
    for standard in codes:
        if not divisions or divisions[-1].key != standard.division:
            divisions.append(Division(standard.division, standard.division_name, []))
        divisions[-1].codes.append(standard)
    return divisions


def request_line_count(session: Session, request: CostCodeUpdateRequest) -> int:
    return session.scalar(
        select(func.count())
        .select_from(UpdateRequestLine)
        .where(UpdateRequestLine.request_id == request.id)
    ) or 0
