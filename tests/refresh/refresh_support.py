"""Helpers shared by the Refresh Cost Codes tests: change the company list as a sync would."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Project, ProjectCostCode, RefreshJob, StandardCostCode, utcnow
from tests.helpers import company_by_slug


def add_company_code(slug: str, code: str, description: str, **fields) -> StandardCostCode:
    """A new code in the company list, as the ERP sync brings it in."""
    company = company_by_slug(slug)
    standard = StandardCostCode(company_id=company.id, code=code, description=description, **fields)
    db.session.add(standard)
    company.standard_codes_changed_at = utcnow()
    db.session.commit()
    return standard


def project_codes(project: Project) -> dict[str, ProjectCostCode]:
    db.session.expire_all()
    rows = db.session.scalars(select(ProjectCostCode).where(ProjectCostCode.project_id == project.id))
    return {row.code: row for row in rows}


def jobs_of(project: Project) -> list[RefreshJob]:
    db.session.expire_all()
    return list(db.session.scalars(select(RefreshJob).where(RefreshJob.project_id == project.id)))

