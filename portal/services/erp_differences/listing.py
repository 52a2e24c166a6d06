"""The Differences with ERP tab and the Cost Code page's line: the differences of the last
comparison, by kind, searched, paged, and as CSV."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session, contains_eager

from portal.db.search import text_search
from portal.erp.formats import in_code_order
from portal.models import (
    DIFFERENCE_KINDS,
    Company,
    CostType,
    CostTypeAssignment,
    DifferenceKind,
    ErpComparison,
    ErpDifference,
    Project,
    ProjectCostCode,
)
from portal.services.audit_log import BYTE_ORDER_MARK, csv_safe
from portal.services.erp_differences.compare import WAITING_STATES
from portal.times import local_time, time_zone

ALL = "all"
FILTERS = [(ALL, "All differences"), *((str(kind), label) for kind, label in DIFFERENCE_KINDS.items())]
FILTER_KEYS = {key for key, _label in FILTERS}
# What each kind means, under its heading and in the CSV.
KIND_NOTES = {
    DifferenceKind.MISSING_IN_ERP: "On the project, not on its ERP job, and not waiting for approval.",
    DifferenceKind.MISSING_IN_PROJECT: "On the ERP job, not on the project.",
    DifferenceKind.COST_TYPES: "On both, with different cost types.",
    DifferenceKind.DESCRIPTION: "On both, with different descriptions: the ERP's text stands (rule 4).",
}
CSV_COLUMNS = ["Project", "ERP job", "Cost code", "Difference", "Project description",
               "ERP description", "Project cost types", "ERP cost types"]


def differences_query(
    company_id: int, kind: str = ALL, search: str = "", project_id: int | None = None
) -> Select:
    """The differences, by ERP job and code (ERP order), with their projects loaded."""
    query = (
        select(ErpDifference)
        .join(Project, Project.id == ErpDifference.project_id)
        .options(contains_eager(ErpDifference.project))
        .where(ErpDifference.company_id == company_id)
    )
    if kind != ALL:
        query = query.where(ErpDifference.kind == kind)
    if project_id is not None:
        query = query.where(ErpDifference.project_id == project_id)
    if search:
        query = query.where(text_search(
            search, ErpDifference.code, ErpDifference.job_number, ErpDifference.project_description,
            ErpDifference.erp_description, Project.number, Project.name,
        ))
    return query.order_by(ErpDifference.job_number, *in_code_order(ErpDifference.code), ErpDifference.kind)


def difference_counts(session: Session, company_id: int, project_id: int | None = None) -> dict[str, int]:
    query = select(ErpDifference.kind, func.count()).where(ErpDifference.company_id == company_id)
    if project_id is not None:
        query = query.where(ErpDifference.project_id == project_id)
    counts = dict.fromkeys(FILTER_KEYS, 0)
    counts.update(session.execute(query.group_by(ErpDifference.kind)).all())
    counts[ALL] = sum(count for key, count in counts.items() if key != ALL)
    return counts


def comparison_of(session: Session, company_id: int) -> ErpComparison | None:
    return session.scalar(select(ErpComparison).where(ErpComparison.company_id == company_id))


@dataclass(frozen=True)
class CodeTypes:
    """A project code's cost types as the differences list shows them."""

    types: tuple[str, ...]  # every cost type of the code, sorted
    waiting: tuple[str, ...]  # those waiting for approval

    @property
    def text(self) -> str:
        return ", ".join(f"{t} (waiting)" if t in self.waiting else t for t in self.types)


def project_code_types(session: Session, rows: list[ErpDifference]) -> dict[tuple[int, str], CodeTypes]:
    """The cost types of each row's project code, keyed by (project id, code)."""
    keys = {(row.project_id, row.code) for row in rows if row.kind != DifferenceKind.MISSING_IN_PROJECT}
    found: dict[tuple[int, str], tuple[list[str], list[str]]] = {}
    if keys:
        result = session.execute(
            select(
                ProjectCostCode.project_id, ProjectCostCode.code, CostType.code, CostTypeAssignment.erp_state
            )
            .join(CostTypeAssignment, CostTypeAssignment.project_cost_code_id == ProjectCostCode.id)
            .join(CostType, CostType.id == CostTypeAssignment.cost_type_id)
            .where(tuple_(ProjectCostCode.project_id, ProjectCostCode.code).in_(sorted(keys)))
        )
        for project_id, code, type_code, state in result:
            types, waiting = found.setdefault((project_id, code), ([], []))
            types.append(type_code)
            if state in WAITING_STATES:
                waiting.append(type_code)
    return {key: CodeTypes(tuple(sorted(t)), tuple(sorted(w))) for key, (t, w) in found.items()}


def erp_types_text(row: ErpDifference) -> str:
    return ", ".join((row.erp_cost_types or "").split(",")) if row.erp_cost_types else ""


def differences_csv(
    session: Session, company_id: int, kind: str = ALL, search: str = "", project_id: int | None = None
) -> Iterator[str]:
    """Every difference matching the filter and search (not one page), as CSV text in chunks,
    each cell guarded against being run as a formula."""
    zone = time_zone(session.scalar(select(Company.time_zone).where(Company.id == company_id)))
    comparison = comparison_of(session, company_id)
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer)
    when = local_time(comparison.compared_at, zone) if comparison and comparison.compared_at else "never"
    writer.writerow([f"Compared {when} ({zone.key})"])
    writer.writerow(CSV_COLUMNS)
    rows = session.scalars(differences_query(company_id, kind, search, project_id)).all()
    for start in range(0, len(rows), 500):
        chunk = rows[start:start + 500]
        types = project_code_types(session, chunk)
        for row in chunk:
            code_types = types.get((row.project_id, row.code))
            writer.writerow(csv_safe(cell) for cell in (
                row.project.label, row.job_number, row.code, row.kind_label,
                row.project_description or "", row.erp_description or "",
                code_types.text if code_types else "", erp_types_text(row),
            ))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@dataclass(frozen=True)
class ProjectDifferences:
    """The Cost Code page's line: "3 differences with ERP job 2402"."""

    count: int
    job_number: str | None
    unreadable: str | None
    compared: bool

    @property
    def text(self) -> str:
        noun = "difference" if self.count == 1 else "differences"
        return f"{self.count} {noun} with ERP job {self.job_number}"


def project_differences(session: Session, project: Project) -> ProjectDifferences | None:
    """None for a project not linked to an ERP job (nothing to compare)."""
    if project.erp_link_state != "linked" or not project.erp_job_number:
        return None
    comparison = comparison_of(session, project.company_id)
    count = session.scalar(
        select(func.count()).select_from(ErpDifference).where(
            ErpDifference.company_id == project.company_id, ErpDifference.project_id == project.id
        )
    ) or 0
    return ProjectDifferences(
        count=count, job_number=project.erp_job_number,
        unreadable=comparison.unreadable if comparison else None,
        compared=bool(comparison and comparison.compared_at),
    )
