"""Fill the reference ERP with what the portal's companies already have in their ERP."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.erp.base import ExportLine
from portal.erp.reference import ReferenceErp
from portal.models import (
    AssignmentErpState,
    Company,
    CostType,
    CostTypeAssignment,
    Project,
    ProjectCostCode,
    StandardCostCode,
)


def seed_reference_erp(session: Session, erp: ReferenceErp) -> dict[str, int]:
    """Make the reference ERP hold what the portal's companies already have in their ERP: the
    companies, cost types, standard cost codes, jobs and the codes already exported to each
    job. Safe to repeat (every ERP action used is idempotent)."""
    counts: Counter = Counter()
    for company in session.scalars(select(Company).order_by(Company.id)):
        erp.ensure_company(company.slug, company.erp_system)
        for cost_type in company.cost_types:
            erp.add_cost_type(company.slug, cost_type.code, cost_type.name)
        for standard in session.scalars(
            select(StandardCostCode).where(StandardCostCode.company_id == company.id)
        ):
            erp.add_standard_cost_code(
                company.slug, standard.code, standard.description, standard.division or None,
                division_name=standard.division_name,
            )
            counts["cost_codes"] += 1
        connector = erp.connector(company.slug)
        projects = session.scalars(
            select(Project)
            .where(Project.company_id == company.id, Project.erp_job_number.is_not(None))
            .order_by(Project.number)
        )
        for project in projects:
            erp.add_job(company.slug, project.erp_job_number, project.name)
            counts["jobs"] += 1
            exported = session.execute(
                select(ProjectCostCode, CostType.code)
                .join(CostTypeAssignment, CostTypeAssignment.project_cost_code_id == ProjectCostCode.id)
                .join(CostType, CostType.id == CostTypeAssignment.cost_type_id)
                .where(
                    ProjectCostCode.project_id == project.id,
                    CostTypeAssignment.erp_state == AssignmentErpState.EXPORTED,
                )
                .order_by(ProjectCostCode.code, CostType.code)
            ).all()
            lines = [
                ExportLine(code.code, code.description, cost_type, code.division or None)
                for code, cost_type in exported
            ]
            if lines:
                connector.export_cost_code_lines(project.erp_job_number, lines)
                counts["job_cost_codes"] += len(lines)
        counts["companies"] += 1
    return dict(counts)
