"""Taking back a project cost code: removing one that was never sent to the ERP, or making one
the ERP job has inactive on the project.

Nothing here touches the ERP: a code in the ERP job is never deleted there, only marked inactive
in the portal, where it gets no new cost types until it is made active again.
"""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.models import (
    AssignmentErpState,
    CostTypeAssignment,
    Project,
    ProjectCostCode,
    UpdateRequestLine,
    User,
)
from portal.services import NotFound, ServiceError, transaction
from portal.services.audit import record_event


def code_label(code: ProjectCostCode) -> str:
    return f"{code.code} {code.description}"


def never_sent(cost_code: ProjectCostCode) -> bool:
    """Every cost type of the code is still only in the portal ("not sent")."""
    return all(item.erp_state == AssignmentErpState.NEW for item in cost_code.assignments)


def _project_code(session: Session, project: Project, project_cost_code_id: int) -> ProjectCostCode:
    cost_code = session.get(ProjectCostCode, project_cost_code_id)
    if cost_code is None or cost_code.project_id != project.id:
        raise NotFound(f"Cost code #{project_cost_code_id} is not a cost code of {project.label}.")
    return cost_code


def remove_unsent_code(
    session: Session, project: Project, actor: User, project_cost_code_id: int
) -> str:
    """Removes a code added by mistake, with its cost types; answers the code's label."""
    cost_code = _project_code(session, project, project_cost_code_id)
    label = code_label(cost_code)
    if not never_sent(cost_code):
        raise ServiceError(
            f"{label} has been sent to the ERP and cannot be removed; make it inactive instead."
        )
    in_a_request = session.scalar(
        select(UpdateRequestLine.id).where(UpdateRequestLine.project_cost_code_id == cost_code.id).limit(1)
    )
    if in_a_request:
        raise ServiceError(
            f"{label} was in a cost code update request, which keeps it in its history, so it "
            "cannot be removed; untick its cost types so that it is not sent again."
        )
    cost_types = sorted(item.cost_type.label for item in cost_code.assignments)
    with transaction(session):
        # Only while every cost type is still "not sent": a Send to ERP at the same moment wins.
        sent_meanwhile = session.scalar(
            select(CostTypeAssignment.id).where(
                CostTypeAssignment.project_cost_code_id == cost_code.id,
                CostTypeAssignment.erp_state != AssignmentErpState.NEW,
            ).limit(1)
        )
        if sent_meanwhile:
            raise ServiceError(f"{label} has just been sent to the ERP and can no longer be removed.")
        session.execute(
            delete(CostTypeAssignment).where(CostTypeAssignment.project_cost_code_id == cost_code.id)
        )
        session.execute(delete(ProjectCostCode).where(ProjectCostCode.id == cost_code.id))
        record_event(
            session, company_id=project.company_id, actor=actor,
            action="project_cost_code.remove", object_type="project", object_id=project.id,
            object_label=project.label, project_id=project.id,
            details={"code": label, "cost_types": cost_types},
        )
    return label


def set_code_active(
    session: Session, project: Project, actor: User, project_cost_code_id: int, active: bool
) -> ProjectCostCode:
    """Marks a code inactive on the project (or active again). The ERP job keeps the code."""
    cost_code = _project_code(session, project, project_cost_code_id)
    if cost_code.active == active:
        return cost_code  # twice has one effect
    if not active and never_sent(cost_code):
        raise ServiceError(
            f"{code_label(cost_code)} has never been sent to the ERP: remove it instead."
        )
    with transaction(session):
        cost_code.active = active
        record_event(
            session, company_id=project.company_id, actor=actor,
            action="project_cost_code.activate" if active else "project_cost_code.deactivate",
            object_type="project_cost_code", object_id=cost_code.id,
            object_label=code_label(cost_code), project_id=project.id,
            details={"before": "Inactive" if active else "Active",
                     "after": "Active" if active else "Inactive"},
        )
    return cost_code
