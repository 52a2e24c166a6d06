"""The open Jobs tab stays current: a validator of what the tab shows, answered 304 when unchanged.

An open tab asks every few seconds (static/js/live_jobs.js). Most answers are "nothing changed",
so that answer must cost one small query and no rendering: the validator below is read from
the indexes the filter counts already use, for the signed-in user's company only (rule 9), and
is sent as an opaque keyed hash, so it tells nothing about the company's numbers.
"""
from __future__ import annotations

import hashlib
import hmac
from functools import cache

from flask import current_app
from flask_login import current_user
from sqlalchemy import Select, bindparam, func, literal, select, union_all

from portal.erp_integrations.jobs import _link_error
from portal.extensions import db
from portal.models import CompanyTool, CostCodeUpdateRequest, ErpJob, Project, SyncRun
from portal.models.update_request import OPEN_REQUEST_STATES
from portal.services.approvals import approval_refusal, next_sync_words
from portal.services.erp_job_links import UNLINKED_STATES


@cache
def validator_query() -> Select:
    """Rows that change whenever a row or a count of the Jobs tab can change, for `company_id`.

    - open requests (waiting, approved, failed): per state, how many and the sum and the
      largest of their ids, read from ix_cost_code_update_requests_company_status. A new
      request, an approval, a rejection, an export or a failure changes the set of some state;
    - the archived projects and those not linked to an ERP job (few), from
      ix_projects_job_filters, the largest project id, and the projects with a link error with
      their messages' lengths, from the partial ix_projects_link_error;
    - ERP jobs waiting to be imported, from ix_erp_jobs_ready_to_import;
    - the company's latest data sync and its state: a finished sync changes the messages of
      failed rows even when no set changed.
    """
    company_id = bindparam("company_id")
    request = CostCodeUpdateRequest
    requests = (
        select(
            literal("request").label("part"), request.status.label("key"),
            func.count().label("n"), func.coalesce(func.sum(request.id), 0).label("s"),
            func.coalesce(func.max(request.id), 0).label("m"),
        )
        .where(request.company_id == company_id, request.status.in_(OPEN_REQUEST_STATES))
        .group_by(request.status)
    )
    # Most projects are linked and stay so: the few archived or not linked are counted, never
    # the thousands of linked ones; a new project shows as a new largest id.
    archived = select(
        literal("archived").label("part"), literal("").label("key"), func.count().label("n"),
        literal(0).label("s"), literal(0).label("m"),
    ).where(Project.company_id == company_id, Project.archived.is_(True))
    unlinked = (
        select(
            literal("unlinked").label("part"), Project.erp_link_state.label("key"),
            func.count().label("n"), func.sum(Project.id).label("s"), literal(0).label("m"),
        )
        .where(
            Project.company_id == company_id, Project.archived.is_(False),
            Project.erp_link_state.in_(UNLINKED_STATES),
        )
        .group_by(Project.erp_link_state)
    )
    newest = select(
        literal("newest").label("part"), literal("").label("key"),
        func.coalesce(func.max(Project.id), 0).label("n"), literal(0).label("s"), literal(0).label("m"),
    ).where(Project.company_id == company_id)
    link_errors = select(
        literal("link_error").label("part"), literal("").label("key"),
        func.count().label("n"), func.coalesce(func.sum(Project.id), 0).label("s"),
        func.coalesce(func.sum(func.length(Project.erp_link_message)), 0).label("m"),
    ).where(Project.company_id == company_id, _link_error())
    erp_jobs = select(
        literal("erp_job").label("part"), literal("").label("key"),
        func.count().label("n"), func.coalesce(func.sum(ErpJob.id), 0).label("s"),
        func.coalesce(func.max(ErpJob.id), 0).label("m"),
    ).where(ErpJob.company_id == company_id, ErpJob.project_id.is_(None), ErpJob.hidden.is_(False))
    latest_sync = select(func.max(SyncRun.id)).where(SyncRun.company_id == company_id).scalar_subquery()
    sync = select(
        literal("sync").label("part"), SyncRun.status.label("key"),
        SyncRun.id.label("n"), literal(0).label("s"), literal(0).label("m"),
    ).where(SyncRun.id == latest_sync)
    return union_all(requests, archived, unlinked, newest, link_errors, erp_jobs, sync)


def jobs_etag(secret: str, state: list, view: tuple) -> str:
    """The weak ETag of a Jobs tab: the company's state and what this user's view shows of it.

    Keyed with the app's secret and cut short: equal states give equal tags, and the tag says
    nothing of the counts or ids it was made from."""
    text = repr((sorted(tuple(row) for row in state), view)).encode()
    digest = hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()[:24]
    return f'W/"{digest}"'


# Compression (Flask-Compress, or a proxy's gzip) tells a compressed answer's tag apart by a
# suffix ("abc:gzip") or makes it weak (W/"abc"); the browser sends back what it got.
_ENCODING_SUFFIXES = (":gzip", ":br", ":deflate", ":zstd", "-gzip", "-br")


def _bare(tag: str) -> str:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    for suffix in _ENCODING_SUFFIXES:
        if tag.endswith(suffix):
            return tag[: -len(suffix)]
    return tag


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether the browser's If-None-Match names `etag` (weakly: compression aside)."""
    if not if_none_match:
        return False
    wanted = _bare(etag)
    return any(_bare(tag) == wanted for tag in if_none_match.split(",") if tag.strip())


def current_jobs_etag(filter_key: str, search: str, page: int) -> str:
    """The tag of the signed-in user's Jobs tab under `filter_key`, `search` and `page`: one
    small query for the company's state, plus what the user's rows depend on (rule 1: whether
    they may decide, and on which of their own requests they may not)."""
    user = current_user._get_current_object()
    state = db.session.execute(validator_query(), {"company_id": user.company_id}).all()
    view = (
        filter_key, search, page, user.id, user.company_id, user.session_version,
        approval_refusal(user), int(user.tool_level(CompanyTool.ERP_INTEGRATIONS)),
        user.can_push_to_accounting, next_sync_words(user.company), user.company.time_zone,
        current_app.config["PAGE_SIZE"],
    )
    return jobs_etag(current_app.config["SECRET_KEY"], state, view)
