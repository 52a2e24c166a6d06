"""Rows the differences tests make: codes on a project or on its ERP job, and a comparison."""
from __future__ import annotations

from sqlalchemy import select

from portal.erp.base import ExportLine
from portal.erp.connectors import connector_for
from portal.extensions import db
from portal.models import (
    CostType,
    CostTypeAssignment,
    ErpDifference,
    Project,
    ProjectCostCode,
    StandardCostCode,
)
from portal.services.erp_differences.compare import compare_company


def project(number: str) -> Project:
    return db.session.scalar(select(Project).where(Project.number == number))


def compare(app, slug: str, connector=None):
    from tests.helpers import company_by_slug

    company = company_by_slug(slug)
    return compare_company(db.session, company.id, connector or connector_for(company, app.config))


def differences(project_: Project) -> set[tuple[str, str]]:
    """(kind, code) of the project's stored differences."""
    return {
        (row.kind, row.code)
        for row in db.session.scalars(select(ErpDifference).where(ErpDifference.project_id == project_.id))
    }


def difference(project_: Project, kind: str, code: str) -> ErpDifference:
    return db.session.scalar(
        select(ErpDifference).where(
            ErpDifference.project_id == project_.id, ErpDifference.kind == kind, ErpDifference.code == code
        )
    )


def add_project_code(
    project_: Project, code: str, description: str, types: dict[str, str]
) -> ProjectCostCode:
    """A code on the project with cost types {type code: erp_state}."""
    cost_code = ProjectCostCode(project_id=project_.id, code=code, description=description, origin="project")
    for type_code, state in types.items():
        cost_type = db.session.scalar(
            select(CostType).where(CostType.company_id == project_.company_id, CostType.code == type_code)
        )
        cost_code.assignments.append(CostTypeAssignment(cost_type=cost_type, erp_state=state))
    db.session.add(cost_code)
    db.session.commit()
    return cost_code


def standard_code_not_on(project_: Project) -> StandardCostCode:
    return db.session.scalar(
        select(StandardCostCode)
        .where(
            StandardCostCode.company_id == project_.company_id,
            StandardCostCode.active.is_(True), StandardCostCode.archived.is_(False),
            StandardCostCode.invalid_reason.is_(None),
            StandardCostCode.code.not_in(
                select(ProjectCostCode.code).where(ProjectCostCode.project_id == project_.id)
            ),
        )
        .order_by(StandardCostCode.code)
    )


def put_on_job(erp, slug: str, job: str, code: str, description: str, cost_type: str) -> None:
    """What accounting does in the ERP: the code (with a cost type) on the job."""
    results = erp.connector(slug).export_cost_code_lines(job, [ExportLine(code, description, cost_type)])
    assert results[0].outcome in ("created", "merged_cost_type", "description_kept"), results
