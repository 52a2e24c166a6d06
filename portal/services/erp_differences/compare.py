"""Comparing every linked project's cost codes with its ERP job's (issue 18).

The ERP job's codes come through the company's connector (`fetch_job_cost_codes`, one code path
for every ERP) into a snapshot (`erp_job_codes`, `erp_job_reads`); the differences are then
computed by SQL from the snapshot and the projects' codes, and stored (`erp_differences`) so that
the list can be counted, paged, searched and downloaded without asking the ERP again. A comparison
runs at every sync and on Compare now; an action on a difference computes its project's again.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import (
    MetaData,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased

from portal.db.bulk import insert_rows
from portal.erp.base import ErpConnector, ErpError, ErpJobCostCode
from portal.models import (
    AssignmentErpState,
    CostType,
    CostTypeAssignment,
    DifferenceKind,
    ErpComparison,
    ErpDifference,
    ErpJobCode,
    ErpJobRead,
    Project,
    ProjectCostCode,
    User,
    utcnow,
)
from portal.services import transaction
from portal.services.audit import record_event

# A code is waiting for approval while one of its cost types is in an open request (requested,
# or approved and not yet exported): the issue leaves those out of "not on the ERP job".
WAITING_STATES = (AssignmentErpState.REQUESTED, AssignmentErpState.APPROVED)


def compared_projects(company_id: int):
    """The company's projects linked to an ERP job, as (id, job number) rows."""
    return select(Project.id, Project.erp_job_number).where(
        Project.company_id == company_id,
        Project.erp_link_state == "linked",
        Project.erp_job_number.is_not(None),
        Project.archived.is_(False),
    )


def linked_job_numbers(session: Session, company_id: int) -> list[str]:
    return sorted({number for _id, number in session.execute(compared_projects(company_id))})


def _types_text(types: Sequence[str] | None) -> str | None:
    # Stored joined by ",": a comma inside an ERP's cost type (none is valid) would split it.
    return None if types is None else ",".join(sorted({t.replace(",", " ").strip() for t in types}))


def read_erp_jobs(
    connector: ErpConnector, job_numbers: Sequence[str]
) -> tuple[dict[str, list[ErpJobCostCode] | ErpError] | None, str | None]:
    """(each job's codes or its error, None) or (None, why the connector cannot read them).
    Raises ErpError when the ERP cannot be used at all."""
    if not job_numbers:
        return {}, None
    answers = connector.fetch_job_cost_codes(list(job_numbers))
    if answers is None:
        return None, connector.job_codes_unreadable()
    return dict(answers), None


def compare_company(
    session: Session,
    company_id: int,
    connector: ErpConnector,
    *,
    actor: User | None = None,
    audit: bool = False,
    now: Callable[[], datetime] = utcnow,
) -> ErpComparison:
    """Read every linked job's codes through the connector, then store the snapshot and the
    differences in one transaction. An ERP that cannot be used is recorded as the comparison's
    failure (the differences of the last good comparison stay); `audit` for Compare now."""
    job_numbers = linked_job_numbers(session, company_id)
    session.commit()  # no transaction held while the ERP answers (on SQLite it would lock)
    answers: dict | None = None
    unreadable = failure = None
    try:
        answers, unreadable = read_erp_jobs(connector, job_numbers)
    except ErpError as error:
        failure = str(error)[:500]
    with transaction(session):
        comparison = session.scalar(select(ErpComparison).where(ErpComparison.company_id == company_id))
        if comparison is None:
            comparison = ErpComparison(company_id=company_id, job_problems=[], jobs_compared=0)
            session.add(comparison)
        if failure is not None:
            comparison.failed_at, comparison.failure = now(), failure
        else:
            _store_snapshot(session, company_id, answers or {})
            comparison.compared_at, comparison.failed_at, comparison.failure = now(), None, None
            comparison.unreadable = unreadable[:500] if unreadable else None
            comparison.jobs_compared = 0 if answers is None else len(answers)
            comparison.job_problems = [
                {"job": job, "message": str(answer)[:300]}
                for job, answer in sorted((answers or {}).items())
                if isinstance(answer, ErpError)
            ]
            comparison.cost_types_compared = answers is not None and not any(
                code.cost_types is None
                for answer in answers.values() if not isinstance(answer, ErpError)
                for code in answer
            )
            store_differences(session, company_id)
        if audit:
            record_event(
                session, company_id=company_id, actor=actor, action="erp_differences.compare",
                object_type="company", object_id=company_id, object_label="Differences with ERP jobs",
                details={"jobs": comparison.jobs_compared, "failure": failure, "unreadable": unreadable,
                         "differences": difference_count(session, company_id)},
            )
    return comparison


def _store_snapshot(session: Session, company_id: int, answers: dict) -> None:
    session.execute(delete(ErpJobCode).where(ErpJobCode.company_id == company_id))
    session.execute(delete(ErpJobRead).where(ErpJobRead.company_id == company_id))
    reads, codes = [], []
    for job, answer in answers.items():
        problem = str(answer)[:500] if isinstance(answer, ErpError) else None
        reads.append({"company_id": company_id, "job_number": job, "problem": problem})
        if problem is None:
            seen = set()
            for code in answer:
                if code.code not in seen:  # a job lists a code once; a second row would break the key
                    seen.add(code.code)
                    codes.append((company_id, job, code.code, code.description[:255],
                                   _types_text(code.cost_types)))
    if reads:
        session.execute(insert(ErpJobRead), reads)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        # Thousands of rows (20 codes on each of thousands of jobs): straight to the driver.
        insert_rows(connection, _JOB_CODE_COLUMNS, codes)
    else:
        # COPY: psycopg's executemany of the bench's 228,000 rows took twice as long (bench/RESULTS.md).
        columns = ", ".join(column.name for column in _JOB_CODE_COLUMNS.columns)
        with connection.connection.dbapi_connection.cursor() as cursor, cursor.copy(
            f"COPY {ErpJobCode.__tablename__} ({columns}) FROM STDIN"
        ) as copy:
            for row in codes:
                copy.write_row(row)
    if connection.dialect.name == "postgresql":
        # The tables were just emptied and filled: without fresh statistics PostgreSQL's planner
        # takes them for nearly empty and looks each project code up by code alone (2.7 s
        # instead of 0.1 s for 12,000 codes; bench/RESULTS.md). ANALYZE sees this transaction's rows.
        session.execute(text("ANALYZE erp_job_codes, erp_job_reads"))


# erp_job_codes without its id (the database numbers the rows), for insert_rows, which takes
# every column of the table it is given, in order.
_JOB_CODE_COLUMNS = Table(
    ErpJobCode.__tablename__, MetaData(),
    *(column._copy() for column in ErpJobCode.__table__.columns if column.name != "id"),
)


def difference_count(session: Session, company_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(ErpDifference).where(ErpDifference.company_id == company_id)
    ) or 0


def store_differences(session: Session, company_id: int, project_id: int | None = None) -> None:
    """Compute the differences (of one project, or of the whole company) from the snapshot and
    store them in place of the old ones. Part of the caller's transaction."""
    gone = delete(ErpDifference).where(ErpDifference.company_id == company_id)
    if project_id is not None:
        gone = gone.where(ErpDifference.project_id == project_id)
    session.execute(gone)
    found_at = utcnow()
    for query in difference_queries(company_id, project_id, found_at).values():
        session.execute(
            insert(ErpDifference).from_select(
                ["company_id", "project_id", "job_number", "kind", "code", "project_description",
                 "erp_description", "erp_cost_types", "found_at"],
                query,
            )
        )


def difference_queries(company_id: int, project_id: int | None, found_at: datetime) -> dict:
    """One SELECT per kind of difference, each giving erp_differences' columns."""
    projects = compared_projects(company_id)
    if project_id is not None:
        projects = projects.where(Project.id == project_id)
    projects = projects.subquery("p")
    read = ErpJobRead
    p_code, e_code = aliased(ProjectCostCode, name="c"), aliased(ErpJobCode, name="e")
    compared = (
        select()
        .select_from(projects)
        .join(read, and_(read.company_id == company_id, read.job_number == projects.c.erp_job_number,
                         read.problem.is_(None)))
    )
    same_job_code = and_(
        e_code.company_id == company_id, e_code.job_number == projects.c.erp_job_number,
        e_code.code == p_code.code,
    )

    def row(kind: DifferenceKind, code, project_description, erp_description, erp_types):
        return (
            literal(company_id), projects.c.id, projects.c.erp_job_number, literal(str(kind)), code,
            project_description, erp_description, erp_types, literal(found_at),
        )

    waiting = exists().where(
        CostTypeAssignment.project_cost_code_id == p_code.id, CostTypeAssignment.erp_state.in_(WAITING_STATES)
    )
    missing_in_erp = (
        compared.add_columns(*row(DifferenceKind.MISSING_IN_ERP, p_code.code, p_code.description,
                                  literal(None), literal(None)))
        .join(p_code, and_(p_code.project_id == projects.c.id, p_code.active.is_(True)))
        .where(~exists().where(same_job_code), ~waiting)
    )
    missing_in_project = (
        compared.add_columns(*row(DifferenceKind.MISSING_IN_PROJECT, e_code.code, literal(None),
                                  e_code.description, e_code.cost_types))
        .join(e_code, and_(e_code.company_id == company_id, e_code.job_number == projects.c.erp_job_number))
        .where(~exists().where(
            ProjectCostCode.project_id == projects.c.id, ProjectCostCode.code == e_code.code
        ))
    )
    on_both = compared.join(p_code, p_code.project_id == projects.c.id).join(e_code, same_job_code)
    descriptions = on_both.add_columns(
        *row(DifferenceKind.DESCRIPTION, p_code.code, p_code.description, e_code.description, literal(None))
    ).where(func.trim(p_code.description) != func.trim(e_code.description))
    # A cost type is in the ERP's list when ",<list>," holds ",<type>,": cost type codes are
    # letters and digits (formats.validate_cost_type), so the pattern holds no wildcard.
    in_erp_types = (literal(",") + e_code.cost_types + literal(",")).like(
        literal("%,") + CostType.code + literal(",%")
    )
    erp_type_count = case(
        (e_code.cost_types == "", 0),
        else_=func.length(e_code.cost_types) - func.length(func.replace(e_code.cost_types, ",", "")) + 1,
    )
    types_of_code = (
        select(func.count())
        .select_from(CostTypeAssignment)
        .join(CostType, CostType.id == CostTypeAssignment.cost_type_id)
        .where(CostTypeAssignment.project_cost_code_id == p_code.id)
    )
    cost_types = on_both.add_columns(
        *row(DifferenceKind.COST_TYPES, p_code.code, p_code.description, e_code.description,
             e_code.cost_types)
    ).where(
        e_code.cost_types.is_not(None),
        or_(
            # a cost type of the project, not waiting for approval, that the job lacks
            types_of_code.where(CostTypeAssignment.erp_state.not_in(WAITING_STATES), not_(in_erp_types))
            .scalar_subquery() > 0,
            # a cost type of the job that the project's code lacks
            types_of_code.where(in_erp_types).scalar_subquery() < erp_type_count,
        ),
    )
    return {
        DifferenceKind.MISSING_IN_ERP: missing_in_erp,
        DifferenceKind.MISSING_IN_PROJECT: missing_in_project,
        DifferenceKind.COST_TYPES: cost_types,
        DifferenceKind.DESCRIPTION: descriptions,
    }
