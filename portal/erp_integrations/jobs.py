"""The Jobs tab's filters as SQL: one aggregate query for the counts, one paged query per table.

Written for companies with thousands of projects: counts are sub-selects in one statement and
the rows come with their project, requester and line count joined, never one query per row.
"""
from __future__ import annotations

from functools import cache

from sqlalchemy import Select, String, and_, bindparam, exists, func, literal_column, select, union
from sqlalchemy.orm import aliased

from portal.db.search import text_search
from portal.models import (
    OPEN_REQUEST_STATES,
    CostCodeUpdateRequest,
    ErpJob,
    Project,
    RequestStatus,
    UpdateRequestLine,
    User,
)
from portal.services.erp_job_links import UNLINKED_STATES

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
# Ready to Update lists requests waiting for approval and approved ones until they are exported.
READY_TO_UPDATE_STATES = (RequestStatus.REQUESTED, RequestStatus.APPROVED)


def _constant(value: str):
    """A state name written into the statement, not bound as a parameter. SQLite runs these
    statements in under half the time when their constants are literals (bench/RESULTS.md,
    2026-12-04, the Jobs tab's floor); only the portal's own state names go through here."""
    return literal_column(f"'{value}'", String)


def _constants(values) -> list:
    return [_constant(value) for value in values]


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
        CostCodeUpdateRequest.company_id == company_id,
        CostCodeUpdateRequest.status.in_(_constants(states)),
    )


def _failed_project_ids(company_id: int):
    """The company's projects with a failed request or an ERP link error. Two small index
    look-ups, never a test of every project."""
    return union(*_failed_parts(company_id))


def _failed_parts(company_id: int) -> tuple:
    # Apart, so that other sets can be one flat UNION with them: SQLite refuses nested ones.
    project = aliased(Project)
    with_failed_request = (
        select(CostCodeUpdateRequest.project_id)
        .join(project, project.id == CostCodeUpdateRequest.project_id)
        .where(
            CostCodeUpdateRequest.company_id == company_id,
            CostCodeUpdateRequest.status == _constant(RequestStatus.FAILED),
            project.company_id == company_id,
        )
    )
    with_link_error = select(project.id).where(project.company_id == company_id, _link_error(project))
    return with_failed_request, with_link_error


# Rule 11: every project of a company is under exactly one filter. Where a project could be
# under two, the first that applies wins:
#   Archived > Ready to Update (a request waiting for approval, or approved and waiting for the
#   next sync) > Failed to Export > Ready to Export (no ERP job yet) > Synced.
# Ready to Update comes before Failed to Export: the approver's decision is the one step a sync
# cannot take, and the next sync retries a failed export together with the approved request
# (both are in the outbox), so a failure that persists comes back under Failed to Export.
# An ERP job waiting under Ready to Import is not a project yet: that filter counts ERP jobs.
def _updating_project_ids(company_id: int):
    return _projects_with_requests(company_id, *READY_TO_UPDATE_STATES)


def _failed_only_project_ids(company_id: int):
    failed = _failed_project_ids(company_id).subquery()
    return select(failed.c[0]).where(failed.c[0].not_in(_updating_project_ids(company_id)))


def _not_updating_or_failed(company_id: int):
    # The projects under Ready to Update or Failed to Export: few beside the company's projects.
    return union(_updating_project_ids(company_id), *_failed_parts(company_id))


def _latest_failed_request_join():
    # One row per project: its latest failed request (if any) gives the message shown.
    latest = (
        select(func.max(CostCodeUpdateRequest.id))
        .where(
            CostCodeUpdateRequest.project_id == Project.id,
            CostCodeUpdateRequest.status == _constant(RequestStatus.FAILED),
        )
        .correlate(Project)
        .scalar_subquery()
    )
    return CostCodeUpdateRequest.id == latest


def _linked(company_id: int) -> list:
    return [
        Project.company_id == company_id,
        Project.archived.is_(False),
        Project.erp_link_state == _constant("linked"),
    ]


def _unlinked(company_id: int) -> list:
    return [
        Project.company_id == company_id,
        Project.archived.is_(False),
        Project.erp_link_state.in_(_constants(UNLINKED_STATES)),
    ]


def _latest_open_request():
    """A project's newest request under Ready to Update: the one its row shows."""
    newer = aliased(CostCodeUpdateRequest)
    return ~exists().where(
        newer.project_id == CostCodeUpdateRequest.project_id,
        newer.status.in_(_constants(READY_TO_UPDATE_STATES)),
        newer.id > CostCodeUpdateRequest.id,
    )


def _where(filter_key: str, company_id: int) -> list:
    """The conditions of a filter, on the entity its rows are built from."""
    if filter_key == "ready_to_import":
        return [ErpJob.company_id == company_id, ErpJob.project_id.is_(None), ErpJob.hidden.is_(False)]
    if filter_key == "ready_to_update":
        return [
            CostCodeUpdateRequest.company_id == company_id,
            CostCodeUpdateRequest.status.in_(_constants(READY_TO_UPDATE_STATES)),
            Project.archived.is_(False),
            _latest_open_request(),
        ]
    if filter_key == "ready_to_export":
        return [*_unlinked(company_id), Project.id.not_in(_not_updating_or_failed(company_id))]
    if filter_key == "failed_to_export":
        return [
            Project.company_id == company_id,
            Project.archived.is_(False),
            Project.id.in_(_failed_only_project_ids(company_id)),
        ]
    if filter_key == "synced":
        return [
            *_linked(company_id),
            Project.id.not_in(_projects_with_requests(company_id, *OPEN_REQUEST_STATES)),
            ~_link_error(),
        ]
    if filter_key == "archived":
        return [Project.company_id == company_id, Project.archived.is_(True)]
    raise ValueError(filter_key)


def _count_of(base: list, less=None, among=None):
    """How many projects meet `base`, counted in the index, less the few of them in `less`;
    or, given `among` (a few project ids), how many of those meet `base`."""
    if among is not None:
        chosen = among.subquery()
        return (
            select(func.count())
            .select_from(Project)
            .join(chosen, chosen.c[0] == Project.id)
            .where(*base)
            .scalar_subquery()
        )
    total = select(func.count()).select_from(Project).where(*base).scalar_subquery()
    if less is None:
        return total
    excluded = less.subquery()
    in_both = (
        select(func.count())
        .select_from(Project)
        .join(excluded, excluded.c[0] == Project.id)
        .where(*base)
        .scalar_subquery()
    )
    return total - in_both


def _count(filter_key: str, company_id: int):
    if filter_key == "synced":
        # Most projects are Synced: counting the linked ones in the index, less the few with
        # an open request or a link error, is cheaper than testing thousands of projects.
        less = union(
            _projects_with_requests(company_id, *OPEN_REQUEST_STATES), *_failed_parts(company_id)
        )
        count = _count_of(_linked(company_id), less)
    elif filter_key == "ready_to_export":
        count = _count_of(_unlinked(company_id), _not_updating_or_failed(company_id))
    elif filter_key == "failed_to_export":
        count = _count_of(
            [Project.company_id == company_id, Project.archived.is_(False)], None,
            among=_failed_only_project_ids(company_id),
        )
    elif filter_key == "ready_to_update":
        count = (
            select(func.count(func.distinct(CostCodeUpdateRequest.project_id)))
            .select_from(CostCodeUpdateRequest)
            .join(Project, Project.id == CostCodeUpdateRequest.project_id)
            .where(
                CostCodeUpdateRequest.company_id == company_id,
                CostCodeUpdateRequest.status.in_(_constants(READY_TO_UPDATE_STATES)),
                Project.archived.is_(False),
            )
            .scalar_subquery()
        )
    elif filter_key == "ready_to_import":
        count = select(func.count()).select_from(ErpJob).where(*_where(filter_key, company_id))
        count = count.scalar_subquery()
    else:
        count = _count_of(_where(filter_key, company_id))
    return count.label(filter_key)


def _waiting_count(company_id):
    """Requests waiting for an approver's decision: the header badge, not a filter."""
    return (
        select(func.count())
        .select_from(CostCodeUpdateRequest)
        .where(
            CostCodeUpdateRequest.company_id == company_id,
            CostCodeUpdateRequest.status == _constant(RequestStatus.REQUESTED),
        )
        .scalar_subquery()
        .label("waiting_for_approval")
    )


@cache
def counts_query() -> Select:
    """Every filter's count in one statement, for the `company_id` parameter, and the number of
    requests waiting for approval.

    Built once: constructing its six sub-selects costs more than SQLite takes to run them.
    """
    company_id = bindparam("company_id")
    return select(*(_count(key, company_id) for key, _ in JOB_FILTERS), _waiting_count(company_id))


# The header badge beside ERP Integrations: the approver's work. A failed export is theirs too,
# as much as a request waiting for approval (issue 14). Approved requests are under Ready to
# Update too (rule 11) but wait for the sync, not for the approver: they are not counted.
APPROVER_WORK = ("waiting_for_approval", "failed_to_export")


def approver_work(counts) -> int:
    """The badge's number, from counts_query's or approver_work_query's counts."""
    return sum(counts[key] for key in APPROVER_WORK)


@cache
def approver_work_query() -> Select:
    """Just the badge's counts, for the pages other than the Jobs tab."""
    company_id = bindparam("company_id")
    return select(_waiting_count(company_id), _count("failed_to_export", company_id))


def _line_count():
    return (
        select(func.count())
        .where(UpdateRequestLine.request_id == CostCodeUpdateRequest.id)
        .correlate(CostCodeUpdateRequest)
        .scalar_subquery()
        .label("line_count")
    )


def _earlier_approval() -> tuple:
    """For a project's waiting request: an update of the same project approved before it and
    not exported yet (the row shows only the newest request; the earlier one stays findable)."""
    earlier = aliased(CostCodeUpdateRequest)
    approver = aliased(User)
    latest = (
        select(earlier.approved_at, approver.name)
        .join(approver, approver.id == earlier.approved_by_id)
        .where(
            earlier.project_id == CostCodeUpdateRequest.project_id,
            earlier.status == _constant(RequestStatus.APPROVED),
            earlier.id < CostCodeUpdateRequest.id,
        )
        .order_by(earlier.id.desc())
        .limit(1)
        .correlate(CostCodeUpdateRequest)
    )
    return (
        latest.with_only_columns(earlier.approved_at).scalar_subquery().label("earlier_approved_at"),
        latest.with_only_columns(approver.name).scalar_subquery().label("earlier_approved_by_name"),
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
            query = query.where(text_search(search, ErpJob.number, ErpJob.name))
        return query.order_by(ErpJob.number), True
    if filter_key == "ready_to_update":
        # The columns the table shows, not three entities per row: a page of 50 built as ORM
        # objects cost more than the query itself.
        requester = aliased(User, name="requester")
        approver = aliased(User, name="approver")
        query = (
            select(
                CostCodeUpdateRequest.id,
                CostCodeUpdateRequest.requested_by_id,
                CostCodeUpdateRequest.requested_at,
                # Project.label
                (Project.number + _constant(" ") + Project.name).label("project_label"),
                Project.erp_job_number,
                requester.name.label("requested_by_name"),
                _line_count(),
                CostCodeUpdateRequest.status,
                CostCodeUpdateRequest.approved_at,
                approver.name.label("approved_by_name"),
                *_earlier_approval(),
            )
            .join(Project, Project.id == CostCodeUpdateRequest.project_id)
            .join(requester, requester.id == CostCodeUpdateRequest.requested_by_id)
            .outerjoin(approver, approver.id == CostCodeUpdateRequest.approved_by_id)
            .where(*_where(filter_key, company_id))
        )
        if search:
            query = query.where(text_search(search, *project_columns, requester.name))
        # Approved requests first (the index's order of the states: read in order, never
        # sorted), so an approver sees what they just approved at the top until it is exported;
        # then the ones waiting for approval, oldest first.
        return query.order_by(
            CostCodeUpdateRequest.status, CostCodeUpdateRequest.requested_at, CostCodeUpdateRequest.id
        ), False
    if filter_key == "failed_to_export":
        query = (
            select(Project, CostCodeUpdateRequest)
            .outerjoin(CostCodeUpdateRequest, _latest_failed_request_join())
            .where(*_where(filter_key, company_id))
        )
        if search:
            query = query.where(text_search(search, *project_columns))
        return query.order_by(Project.number), False
    query = select(Project).where(*_where(filter_key, company_id))
    if search:
        query = query.where(text_search(search, *project_columns))
    return query.order_by(Project.number), True
