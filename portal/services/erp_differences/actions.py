"""Acting on a difference: send the project's missing codes or cost types to the ERP (through the
project's normal update request: an approver still approves), or add the ERP job's codes or cost
types to the project. Both need Admin on the project's Admin tool; each computes its project's
differences again from the snapshot in the same transaction, and each refusal names the code."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.erp import formats
from portal.erp.base import ErpError
from portal.erp.connectors import connector_for
from portal.models import (
    AssignmentErpState,
    Company,
    CompanyTool,
    CostType,
    CostTypeAssignment,
    DifferenceKind,
    ErpComparison,
    ErpDifference,
    Level,
    Project,
    ProjectCostCode,
    StandardCostCode,
    User,
)
from portal.services import NotFound, PermissionDenied, ServiceError, transaction
from portal.services.audit import record_event
from portal.services.erp_differences.compare import WAITING_STATES, compare_company, store_differences
from portal.services.project_cost_codes import CONCURRENT_CHANGE, send_updates_to_erp

SENDABLE_KINDS = (DifferenceKind.MISSING_IN_ERP, DifferenceKind.COST_TYPES)
ADDABLE_KINDS = (DifferenceKind.MISSING_IN_PROJECT, DifferenceKind.COST_TYPES)
# What is sent again: new cost types, and exported ones the ERP job no longer has.
RESENDABLE_STATES = (AssignmentErpState.NEW, AssignmentErpState.EXPORTED)


COMPARE_REFUSAL = (
    f"You need {Level.ADMIN.label} on the {CompanyTool.ERP_INTEGRATIONS.label} tool to compare now"
)


def compare_now(session: Session, actor: User, config: Mapping[str, Any]) -> ErpComparison:
    """Compare now: the same comparison as a sync's, asked for by an ERP Integrations Admin, audited."""
    if actor.tool_level(CompanyTool.ERP_INTEGRATIONS) < Level.ADMIN:
        raise PermissionDenied(COMPARE_REFUSAL + ".")
    company = session.get(Company, actor.company_id)
    try:
        connector = connector_for(company, config)
    except ErpError as error:
        raise ServiceError(f"The ERP cannot be reached to compare: {error}") from error
    return compare_company(session, company.id, connector, actor=actor, audit=True)


def get_difference(session: Session, difference_id: int, *, company_id: int) -> ErpDifference:
    difference = session.get(ErpDifference, difference_id)
    if difference is None or difference.company_id != company_id:
        raise NotFound(f"Difference #{difference_id} is not in the list; compare again.")
    return difference


def difference_label(difference: ErpDifference) -> str:
    return f"{difference.code} of {difference.project.label}"


def action_refusal(user: User, project_id: int) -> str | None:
    """Why `user` may not act on a project's differences, or None."""
    if user.project_level(project_id) < Level.ADMIN:
        return f"You need {Level.ADMIN.label} on this project's Admin tool"
    return None


def erp_types(difference: ErpDifference) -> list[str]:
    return [t for t in (difference.erp_cost_types or "").split(",") if t]


def _allowed(actor: User, difference: ErpDifference, kinds, verb: str) -> Project:
    refusal = action_refusal(actor, difference.project_id)
    if refusal:
        raise PermissionDenied(f"{refusal} to {verb} {difference_label(difference)}.")
    if difference.kind not in kinds:
        raise ServiceError(
            f"{difference_label(difference)}: {difference.kind_label.lower()} is not something to {verb}."
        )
    return difference.project


def _project_code(session: Session, project: Project, code: str) -> ProjectCostCode | None:
    return session.scalar(
        select(ProjectCostCode).where(ProjectCostCode.project_id == project.id, ProjectCostCode.code == code)
    )


def send_difference_to_erp(session: Session, difference_id: int, actor: User) -> str:
    """Sends the code (or the cost types the ERP job lacks) in the project's update request."""
    difference = get_difference(session, difference_id, company_id=actor.company_id)
    project = _allowed(actor, difference, SENDABLE_KINDS, "send to the ERP")
    label, company_id = difference_label(difference), project.company_id
    cost_code = _project_code(session, project, difference.code)
    if cost_code is None:
        raise ServiceError(f"{label} is no longer on the project; compare again.")
    on_job = set(erp_types(difference)) if difference.kind == DifferenceKind.COST_TYPES else set()
    to_send = [
        assignment for assignment in cost_code.assignments
        if assignment.erp_state in RESENDABLE_STATES and assignment.cost_type.code not in on_job
    ]
    if not to_send:
        if any(assignment.erp_state in WAITING_STATES for assignment in cost_code.assignments):
            raise ServiceError(f"{label} is already waiting for approval.")
        if not cost_code.assignments:
            raise ServiceError(
                f"{label} has no cost type: tick one on the project's Cost Code page, then send it."
            )
        raise ServiceError(f"{label}: every cost type it has is on ERP job {difference.job_number}.")
    types = ", ".join(sorted(assignment.cost_type.code for assignment in to_send))
    send_updates_to_erp(
        session, project, actor, assignments=to_send,
        also=lambda: store_differences(session, company_id, project.id),
    )
    return (
        f"Sent {label} (cost types {types}) for approval: an approver updates it under "
        "Jobs → Ready to Update, and the next sync puts it on the ERP job."
    )


def add_difference_to_project(session: Session, difference_id: int, actor: User) -> str:
    """Adds the ERP job's code to the project with its cost types (or the cost types the project's
    code lacks). They are on the ERP job already, so they are recorded as exported."""
    difference = get_difference(session, difference_id, company_id=actor.company_id)
    project = _allowed(actor, difference, ADDABLE_KINDS, "add to the project")
    label, company_id, job = difference_label(difference), project.company_id, difference.job_number
    cost_code = _project_code(session, project, difference.code)
    if difference.kind == DifferenceKind.MISSING_IN_PROJECT and cost_code is not None:
        raise ServiceError(f"{label} is already on the project; compare again.")
    if difference.kind == DifferenceKind.COST_TYPES and cost_code is None:
        raise ServiceError(f"{label} is no longer on the project; compare again.")
    wanted = erp_types(difference)
    company_types = {
        cost_type.code: cost_type
        for cost_type in session.scalars(
            select(CostType).where(CostType.company_id == company_id, CostType.code.in_(wanted))
        )
    }
    unknown = [code for code in wanted if code not in company_types]
    had = {assignment.cost_type.code for assignment in cost_code.assignments} if cost_code else set()
    adding = [company_types[code] for code in wanted if code in company_types and code not in had]
    if difference.kind == DifferenceKind.COST_TYPES and not adding:
        raise ServiceError(
            f"{label}: cost type {', '.join(unknown)} of ERP job {difference.job_number} is not one of "
            "the company's cost types; the next sync brings the ERP's cost types."
            if unknown else f"{label} already has every cost type of ERP job {difference.job_number}."
        )
    try:
        with transaction(session):
            if cost_code is None:
                cost_code = _new_project_code(session, project, difference)
            cost_code.assignments.extend(
                CostTypeAssignment(cost_type=cost_type, erp_state=AssignmentErpState.EXPORTED)
                for cost_type in adding
            )
            session.flush()
            record_event(
                session, company_id=company_id, actor=actor, action="erp_difference.add_to_project",
                object_type="project_cost_code", object_id=cost_code.id,
                object_label=f"{cost_code.code} {cost_code.description}", project_id=project.id,
                details={"erp_job": difference.job_number, "difference": difference.kind_label,
                         "cost_types": [cost_type.code for cost_type in adding], "not_added": unknown},
            )
            store_differences(session, company_id, project.id)
    except IntegrityError as error:
        raise ServiceError(CONCURRENT_CHANGE) from error
    message = f"Added {label} from ERP job {job}"
    message += f" with cost types {', '.join(t.code for t in adding)}." if adding else "."
    if unknown:
        message += f" Cost type {', '.join(unknown)} is not one of the company's cost types and was left out."
    elif not wanted:
        message += " The ERP keeps no cost type on a job's code: tick its cost types on the Cost Code page."
    return message


def _new_project_code(session: Session, project: Project, difference: ErpDifference) -> ProjectCostCode:
    standard = session.scalar(
        select(StandardCostCode).where(
            StandardCostCode.company_id == project.company_id, StandardCostCode.code == difference.code
        )
    )
    if standard is not None:
        division = standard.division
    else:
        try:
            division = formats.division_of(project.company.erp_system, difference.code, project.company.mask)
        except formats.CostCodeFormatError:
            division = ""
    cost_code = ProjectCostCode(
        project_id=project.id, standard_cost_code_id=standard.id if standard else None,
        code=difference.code, description=(difference.erp_description or difference.code)[:255],
        division=division, origin="company" if standard else "project",
    )
    session.add(cost_code)
    return cost_code
