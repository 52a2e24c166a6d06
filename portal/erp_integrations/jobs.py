"""The Jobs tab's filters as SQL: one aggregate query for the counts, one paged query per table.

Written for companies with thousands of projects: counts are sub-selects in one statement and
the rows come with their project, requester and line count joined, never one query per row.
"""
from __future__ import annotations

from functools import cache

from sqlalchemy import Select, and_, bindparam, func, literal_column, or_, select, union
from sqlalchemy.orm import aliased

from portal.models import (
    OPEN_REQUEST_STATES,
    CostCodeUpdateRequest,
    ErpJob,
    Project,
    RequestStatus,
    UpdateRequestLine,
    User,
)

JOB_FILTERS = [
    ("ready_to_import", "Ready to Import"),
    ("ready_to_export", "Ready to Export"),
    ("ready_to_update", "Ready to Update"),
    ("failed_to_export", "Failed to Export"),
    ("synced", "Synced"),
    ("archived", "Archived"),
]
FILTER_KEYS = {key for key, _ in JOB_FILTERS}
DEFAULT_FILTER = "ready_to_update"


def _link_error(project=Project):
    # A rejected project's message is the approver's reason, not an export failure. The
    # constants are literals, not parameters: SQLite uses the partial index
    # ix_projects_link_error only when it can see that the query implies the index's condition.
    return and_(
        project.erp_link_message.is_not(None),
        project.erp_link_message != literal_column("''"),
        project.erp_link_state != literal_column("'rejected'"),
    )


def _projects_with_requests(company_id: int, *states: str):
    # One set of the company's projects, not one look-up per project: the filters run over
    # every project of the company, thousands of them.
    return select(CostCodeUpdateRequest.project_id).where(
        CostCodeUpdateRequest.company_id == company_id, CostCodeUpdateRequest.status.in_(states)
    )


def _failed_project_ids(company_id: int):
    """The company's projects under Failed to Export: those with a failed request, and those
    whose ERP link has an error. Two small index look-ups, never a test of every project."""
    project = aliased(Project)
    with_failed_request = (
        select(CostCodeUpdateRequest.project_id)
        .join(project, project.id == CostCodeUpdateRequest.project_id)
        .where(
            CostCodeUpdateRequest.company_id == company_id,
            CostCodeUpdateRequest.status == RequestStatus.FAILED,
            project.company_id == company_id,
        )
    )
    with_link_error = select(project.id).where(project.company_id == company_id, _link_error(project))
    return union(with_failed_request, with_link_error)


def _latest_failed_request_join():
    # One row per project: its latest failed request (if any) gives the message shown.
    latest = (
        select(func.max(CostCodeUpdateRequest.id))
        .where(
            CostCodeUpdateRequest.project_id == Project.id,
            CostCodeUpdateRequest.status == RequestStatus.FAILED,
        )
        .correlate(Project)
        .scalar_subquery()
    )
    return CostCodeUpdateRequest.id == latest


def _linked(company_id: int) -> list:
    return [
        Project.company_id == company_id,
        Project.archived.is_(False),
        Project.erp_link_state == "linked",
    ]


def _where(filter_key: str, company_id: int) -> list:
    """The conditions of a filter, on the entity its rows are built from."""
    if filter_key == "ready_to_import":
        return [ErpJob.company_id == company_id, ErpJob.project_id.is_(None), ErpJob.hidden.is_(False)]
    if filter_key == "ready_to_update":
        return [
            CostCodeUpdateRequest.company_id == company_id,
            CostCodeUpdateRequest.status == RequestStatus.REQUESTED,
        ]
    if filter_key == "ready_to_export":
        return [
            Project.company_id == company_id,
            Project.archived.is_(False),
            Project.erp_link_state.in_(("ready_to_export", "accepted")),
        ]
    if filter_key == "failed_to_export":
        return [Project.company_id == company_id, Project.id.in_(_failed_project_ids(company_id))]
    if filter_key == "synced":
        return [
            *_linked(company_id),
            Project.id.not_in(_projects_with_requests(company_id, *OPEN_REQUEST_STATES)),
        ]
    if filter_key == "archived":
        return [Project.company_id == company_id, Project.archived.is_(True)]
    raise ValueError(filter_key)


def _synced_count(company_id: int):
    # Most projects are Synced: counting the linked ones in the index, less the few with an
    # open request, is cheaper than testing thousands of projects against the open set.
    linked = select(func.count()).select_from(Project).where(*_linked(company_id))
    linked_with_open_request = (
        select(func.count(func.distinct(Project.id)))
        .select_from(CostCodeUpdateRequest)
        .join(Project, Project.id == CostCodeUpdateRequest.project_id)
        .where(
            CostCodeUpdateRequest.company_id == company_id,
            CostCodeUpdateRequest.status.in_(OPEN_REQUEST_STATES),
            *_linked(company_id),
        )
    )
    return (linked.scalar_subquery() - linked_with_open_request.scalar_subquery()).label("synced")


def _count(filter_key: str, company_id: int):
    if filter_key == "synced":
        return _synced_count(company_id)
    if filter_key == "failed_to_export":
        query = select(func.count()).select_from(_failed_project_ids(company_id).subquery())
        return query.scalar_subquery().label(filter_key)
    if filter_key == "ready_to_import":
        query = select(func.count()).select_from(ErpJob)
    elif filter_key == "ready_to_update":
        query = select(func.count()).select_from(CostCodeUpdateRequest)
    else:
        query = select(func.count()).select_from(Project)
    return query.where(*_where(filter_key, company_id)).scalar_subquery().label(filter_key)


@cache
def counts_query() -> Select:
    """Every filter's count in one statement, for the `company_id` parameter.

    Built once: constructing its six sub-selects costs more than SQLite takes to run them.
    """
    return select(*(_count(key, bindparam("company_id")) for key, _ in JOB_FILTERS))


# The header badge beside ERP Integrations: the approver's work. A failed export is theirs too,
# as much as a request waiting for approval (issue 14).
APPROVER_WORK = ("ready_to_update", "failed_to_export")


def approver_work(counts) -> int:
    """The badge's number, from the filters' counts (counts_query or approver_work_query)."""
    return sum(counts[key] for key in APPROVER_WORK)


@cache
def approver_work_query() -> Select:
    """Just the badge's counts, for the pages other than the Jobs tab."""
    return select(*(_count(key, bindparam("company_id")) for key in APPROVER_WORK))


def _search(search: str, *columns):
    pattern = f"%{search}%"
    return or_(*(column.ilike(pattern) for column in columns))


def _line_count():
    return (
        select(func.count())
        .where(UpdateRequestLine.request_id == CostCodeUpdateRequest.id)
        .correlate(CostCodeUpdateRequest)
        .scalar_subquery()
        .label("line_count")
    )


def rows_query(filter_key: str, search: str = "") -> tuple[Select, bool]:
    """The filter's rows for the `company_id` parameter, ordered for paging; the flag says
    whether rows are single entities."""
    if search:
        return _rows_query(filter_key, bindparam("company_id"), search)
    return _unsearched_rows_query(filter_key)


@cache
def _unsearched_rows_query(filter_key: str) -> tuple[Select, bool]:
    # Built once per filter, as counts_query(): building a statement costs more than running it.
    return _rows_query(filter_key, bindparam("company_id"))


def _rows_query(filter_key: str, company_id, search: str = "") -> tuple[Select, bool]:
    project_columns = (Project.number, Project.name, Project.erp_job_number)
    if filter_key == "ready_to_import":
        query = select(ErpJob).where(*_where(filter_key, company_id))
        if search:
            query = query.where(_search(search, ErpJob.number, ErpJob.name))
        return query.order_by(ErpJob.number), True
    if filter_key == "ready_to_update":
        # The columns the table shows, not three entities per row: a page of 50 built as ORM
        # objects cost more than the query itself.
        requester = aliased(User, name="requester")
        query = (
            select(
                CostCodeUpdateRequest.id,
                CostCodeUpdateRequest.requested_by_id,
                CostCodeUpdateRequest.requested_at,
                # Project.label
                (Project.number + " " + Project.name).label("project_label"),
                Project.erp_job_number,
                requester.name.label("requested_by_name"),
                _line_count(),
            )
            .join(Project, Project.id == CostCodeUpdateRequest.project_id)
            .join(requester, requester.id == CostCodeUpdateRequest.requested_by_id)
            .where(*_where(filter_key, company_id))
        )
        if search:
            query = query.where(_search(search, *project_columns, requester.name))
        return query.order_by(CostCodeUpdateRequest.requested_at, CostCodeUpdateRequest.id), False
    if filter_key == "failed_to_export":
        query = (
            select(Project, CostCodeUpdateRequest)
            .outerjoin(CostCodeUpdateRequest, _latest_failed_request_join())
            .where(*_where(filter_key, company_id))
        )
        if search:
            query = query.where(_search(search, *project_columns))
        return query.order_by(Project.number), False
    query = select(Project).where(*_where(filter_key, company_id))
    if search:
        query = query.where(_search(search, *project_columns))
    return query.order_by(Project.number), True
