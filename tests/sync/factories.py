"""Rows the approval workflow would have written, made directly so the sync can be tested alone."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Commitment,
    CostCodeUpdateRequest,
    CostType,
    CostTypeAssignment,
    Project,
    ProjectCostCode,
    StandardCostCode,
    UpdateRequestLine,
    User,
    utcnow,
)


def project_by_number(number: str) -> Project:
    return db.session.scalar(select(Project).where(Project.number == number))


def approved_request(
    project: Project, lines: list[tuple[str, str]], *, status: str = "approved",
    descriptions: dict[str, str] | None = None,
) -> CostCodeUpdateRequest:
    """An approved request of `project` for (standard code, cost type) pairs: the export outbox.

    The project cost code is added when the project lacks it; its assignment is "approved".
    """
    descriptions = descriptions or {}
    requester = db.session.scalar(
        select(User).where(User.company_id == project.company_id, User.email.like("pm@%"))
    )
    approver = db.session.scalar(
        select(User).where(User.company_id == project.company_id, User.email.like("approver@%"))
    )
    request = CostCodeUpdateRequest(
        company_id=project.company_id, project_id=project.id, status=status,
        requested_by_id=requester.id, requested_at=utcnow(),
        approved_by_id=approver.id if status != "requested" else None,
        approved_at=utcnow() if status != "requested" else None,
    )
    db.session.add(request)
    for code, cost_type_code in lines:
        standard = db.session.scalar(
            select(StandardCostCode).where(
                StandardCostCode.company_id == project.company_id, StandardCostCode.code == code
            )
        )
        cost_type = db.session.scalar(
            select(CostType).where(
                CostType.company_id == project.company_id, CostType.code == cost_type_code
            )
        )
        cost_code = db.session.scalar(
            select(ProjectCostCode).where(
                ProjectCostCode.project_id == project.id, ProjectCostCode.code == code
            )
        )
        change = "new_cost_type"
        if cost_code is None:
            change = "new_code"
            cost_code = ProjectCostCode(
                project_id=project.id, standard_cost_code_id=standard.id, code=code,
                description=descriptions.get(code, standard.description),
                division=standard.division, origin="company",
            )
            db.session.add(cost_code)
            db.session.flush()
        assignment = CostTypeAssignment(
            project_cost_code_id=cost_code.id, cost_type_id=cost_type.id,
            erp_state="approved" if status != "requested" else "requested",
        )
        db.session.add(assignment)
        db.session.flush()
        request.lines.append(UpdateRequestLine(
            project_cost_code_id=cost_code.id, assignment_id=assignment.id, code=code,
            description=descriptions.get(code, cost_code.description), division=cost_code.division,
            cost_type_code=cost_type_code, change=change,
        ))
    db.session.commit()
    return request


def commitment(project: Project, number: str, *, kind: str = "contract", parent=None,
               status: str = "export_requested", amount_cents: int = 125_000_00) -> Commitment:
    row = Commitment(
        company_id=project.company_id, project_id=project.id, kind=kind, number=number,
        title=f"{'Contract' if kind == 'contract' else 'Change order'} {number}",
        amount_cents=amount_cents, status=status, parent_id=parent.id if parent else None,
    )
    db.session.add(row)
    db.session.commit()
    return row
