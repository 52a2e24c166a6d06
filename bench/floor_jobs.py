"""The Jobs tab's floor: the same page as the portal's Ready to Update, from raw SQL.

The portal's own template files, through a bare Jinja environment compiled once at start-up,
fed by raw sqlite3 / psycopg queries that compute the same six filter counts, the badge and the
same page of rows. No ORM, no Flask-Login, no permission checks: the user is the bench's
approver (ERP Integrations admin, may push to accounting), whose page this is. The page is the
portal's byte for byte apart from the CSRF token and the user's name
(tests/test_bench_floors.py checks it).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from datetime import datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace

from jinja2 import Environment, FileSystemLoader, pass_context
from sqlalchemy.dialects.postgresql import dialect as postgresql_dialect
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from portal.erp_integrations.live import jobs_etag, validator_query
from portal.models.levels import Level
from portal.times import DEFAULT_TIME_ZONE, local_time, time_zone

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PAGE_SIZE = 50
HTMX_VERSION = "2.0.11"

# The filters' counts, as portal/erp_integrations/jobs.py's counts_query() asks them.
_UPDATING = (
    "SELECT project_id FROM cost_code_update_requests "
    "WHERE company_id = :company_id AND status IN ('requested', 'approved')"
)
_OPEN = (
    "SELECT project_id FROM cost_code_update_requests "
    "WHERE company_id = :company_id AND status IN ('requested', 'approved', 'failed')"
)
_FAILED_PARTS = (
    "SELECT r.project_id FROM cost_code_update_requests r JOIN projects p1 ON p1.id = r.project_id "
    "WHERE r.company_id = :company_id AND r.status = 'failed' AND p1.company_id = :company_id "
    "UNION SELECT p2.id FROM projects p2 WHERE p2.company_id = :company_id "
    "AND p2.erp_link_message IS NOT NULL AND p2.erp_link_message != '' AND p2.erp_link_state != 'rejected'"
)
_UNLINKED = (
    "projects.company_id = :company_id AND projects.archived = false "
    "AND projects.erp_link_state IN ('ready_to_export', 'accepted', 'rejected')"
)
_LINKED = (
    "projects.company_id = :company_id AND projects.archived = false AND projects.erp_link_state = 'linked'"
)
COUNTS_SQL = f"""
SELECT
 (SELECT count(*) FROM erp_jobs WHERE company_id = :company_id AND project_id IS NULL
  AND hidden = false) AS ready_to_import,
 (SELECT count(*) FROM projects WHERE {_UNLINKED})
 - (SELECT count(*) FROM projects JOIN ({_UPDATING} UNION {_FAILED_PARTS}) less
    ON less.project_id = projects.id WHERE {_UNLINKED}) AS ready_to_export,
 (SELECT count(DISTINCT r.project_id) FROM cost_code_update_requests r
  JOIN projects ON projects.id = r.project_id
  WHERE r.company_id = :company_id AND r.status IN ('requested', 'approved')
  AND projects.archived = false) AS ready_to_update,
 (SELECT count(*) FROM projects JOIN (SELECT failed.project_id FROM ({_FAILED_PARTS}) failed
    WHERE failed.project_id NOT IN ({_UPDATING})) among ON among.project_id = projects.id
  WHERE projects.company_id = :company_id AND projects.archived = false) AS failed_to_export,
 (SELECT count(*) FROM projects WHERE {_LINKED})
 - (SELECT count(*) FROM projects JOIN ({_OPEN} UNION {_FAILED_PARTS}) less
    ON less.project_id = projects.id WHERE {_LINKED}) AS synced,
 (SELECT count(*) FROM projects WHERE company_id = :company_id AND archived = true) AS archived,
 (SELECT count(*) FROM cost_code_update_requests WHERE company_id = :company_id
  AND status = 'requested') AS waiting_for_approval
"""
FILTER_COUNTS = (
    "ready_to_import", "ready_to_export", "ready_to_update", "failed_to_export", "synced", "archived",
)
_EARLIER = (
    "FROM cost_code_update_requests e JOIN users eu ON eu.id = e.approved_by_id "
    "WHERE e.project_id = r.project_id AND e.status = 'approved' AND e.id < r.id ORDER BY e.id DESC LIMIT 1"
)
ROWS_SQL = f"""
SELECT r.id, r.requested_by_id, r.requested_at, p.number || ' ' || p.name, p.erp_job_number,
       requester.name, (SELECT count(*) FROM update_request_lines l WHERE l.request_id = r.id),
       r.status, r.approved_at, approver.name,
       (SELECT e.approved_at {_EARLIER}), (SELECT eu.name {_EARLIER})
FROM cost_code_update_requests r
JOIN projects p ON p.id = r.project_id
JOIN users requester ON requester.id = r.requested_by_id
LEFT JOIN users approver ON approver.id = r.approved_by_id
WHERE r.company_id = :company_id AND r.status IN ('requested', 'approved') AND p.archived = false
  AND NOT EXISTS (SELECT 1 FROM cost_code_update_requests n WHERE n.project_id = r.project_id
                  AND n.status IN ('requested', 'approved') AND n.id > r.id)
ORDER BY r.status, r.requested_at, r.id LIMIT :limit OFFSET :offset
"""
COMPANY_SQL = """
SELECT c.name, c.slug, c.time_zone, c.sync_schedule, c.next_sync_at, u.name, c.erp_system, e.kind,
       e.writes_enabled, u.session_version
FROM users u JOIN companies c ON c.id = u.company_id LEFT JOIN erp_connections e ON e.company_id = c.id
WHERE u.id = :user_id
"""
ROW_FIELDS = (
    "id", "requested_by_id", "requested_at", "project_label", "erp_job_number", "requested_by_name",
    "line_count", "status", "approved_at", "approved_by_name", "earlier_approved_at",
    "earlier_approved_by_name",
)
JOB_FILTERS = [
    ("ready_to_import", "Ready to Import"),
    ("ready_to_export", "Ready to Export"),
    ("ready_to_update", "Ready to Update"),
    ("failed_to_export", "Failed to Export"),
    ("synced", "Synced"),
    ("archived", "Archived"),
]
# The approver's header: every tool, in the header's order.
TOOLS = [
    ("ERP Integrations", "erp_integrations.jobs"),
    ("Company Admin", "company_admin.directory"),
    ("Projects", "project_admin.projects"),
]
# The paths the page links to, as the portal's url_map builds them.
PATHS = {
    "erp_integrations.jobs": "/erp-integrations/jobs",
    "erp_integrations.commitments": "/erp-integrations/commitments",
    "erp_integrations.differences": "/erp-integrations/differences",
    "erp_integrations.jobs_live": "/erp-integrations/jobs/live",
    "erp_integrations.sync": "/erp-integrations/sync",
    "erp_integrations.sync_now": "/erp-integrations/sync/now",
    "erp_integrations.approve_several_requests": "/erp-integrations/requests/update",
    "company_admin.directory": "/company-admin/directory",
    "project_admin.projects": "/projects/",
    "auth.account": "/account",
    "auth.logout": "/logout",
}
ROW_PATHS = {
    "erp_integrations.requested_updates": "/erp-integrations/requests/{}/requested-updates",
    "erp_integrations.approve_request": "/erp-integrations/requests/{}/update",
    "erp_integrations.reject_dialog": "/erp-integrations/requests/{}/reject",
}


def url_for(endpoint: str, **values) -> str:
    if endpoint == "static":
        return f"/static/{values['filename']}"
    path = PATHS[endpoint]
    query = "&".join(f"{key}={value}" for key, value in values.items() if value is not None)
    return f"{path}?{query}" if query else path


def url_for_rows(endpoint: str, _argument: str, **values):
    path = ROW_PATHS[endpoint]
    query = "&".join(f"{key}={value}" for key, value in values.items() if value is not None)
    suffix = f"?{query}" if query else ""
    return lambda row_id: path.format(int(row_id)) + suffix


@pass_context
def _when(context, value):  # noqa: ANN001
    # As the portal's filter: the view's `time_zone`, or the full page's layout's.
    zone = context.get("time_zone") or getattr(context.get("layout"), "time_zone", None)
    return local_time(_datetime(value), zone)


def _datetime(value):  # noqa: ANN001
    # sqlite3 gives the stored text; psycopg a datetime.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@cache
def environment() -> Environment:
    """The bare environment, its templates compiled once (on the first page, then cached)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, auto_reload=False)
    env.globals.update(
        url_for=url_for,
        url_for_rows=url_for_rows,
        get_flashed_messages=lambda with_categories=False: [],
        # The request's own query keys: ?filter=ready_to_update.
        carried_query_args=lambda exclude=(): {} if "filter" in exclude else {"filter": "ready_to_update"},
        config={"HTMX_FROM_CDN": False, "HTMX_VERSION": HTMX_VERSION},
        request=SimpleNamespace(
            blueprint="erp_integrations", endpoint="erp_integrations.jobs", view_args={}
        ),
    )
    env.filters["when"] = _when
    for page in ("erp_integrations/jobs.html", "erp_integrations/_cost_codes_for_update.html"):
        env.get_template(page)
    return env


class Database:
    """One connection per thread, kept: sqlite3 on a file, or psycopg on a PostgreSQL URL."""

    def __init__(self, url: str):
        self.url = url
        self.local = threading.local()
        self.postgresql = url.startswith("postgresql")

    def connection(self):
        connection = getattr(self.local, "connection", None)
        if connection is None:
            if self.postgresql:
                import psycopg

                connection = psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"),
                                             autocommit=True)
            else:
                connection = sqlite3.connect(self.url.removeprefix("sqlite:///"), check_same_thread=False)
            self.local.connection = connection
        return connection

    def sql(self, statement: str) -> str:
        return _named_to_pyformat(statement) if self.postgresql else statement

    def all(self, statement: str, **parameters) -> list[tuple]:
        return self.connection().execute(self.sql(statement), parameters).fetchall()

    def one(self, statement: str, **parameters) -> tuple:
        return self.connection().execute(self.sql(statement), parameters).fetchone()


@cache
def _named_to_pyformat(statement: str) -> str:
    return re.sub(r"(?<!:):(\w+)", r"%(\1)s", statement)


@cache
def validator_sql(postgresql: bool, company_id: int) -> str:
    """The portal's validator query as raw SQL for one company, compiled once."""
    dialect = postgresql_dialect() if postgresql else sqlite_dialect()
    statement = validator_query().params(company_id=company_id)
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def jobs_page(database: Database, user_id: int, company_id: int, csrf_token: str, secret: str) -> str:
    """Ready to Update's first page for the approver, as the portal's Jobs tab renders it."""
    name, slug, zone_name, schedule, next_sync_at, user_name, erp_system, kind, writes, session_version = (
        database.one(COMPANY_SQL, user_id=user_id)
    )
    if (kind not in (None, "reference") and not (kind == "sage100_database" and writes)) or (
        erp_system == "sage300cre"
    ):
        # The note Ready to Update shows where approved codes do not simply go into the ERP.
        raise NotImplementedError("the floor renders a Sage 100 Contractor company the ERP takes codes from")
    counts = dict(zip((*FILTER_COUNTS, "waiting_for_approval"),
                      database.one(COUNTS_SQL, company_id=company_id), strict=True))
    items = [
        SimpleNamespace(**dict(zip(ROW_FIELDS, row, strict=True)))
        for row in database.all(ROWS_SQL, company_id=company_id, limit=PAGE_SIZE, offset=0)
    ]
    zone = time_zone(zone_name or DEFAULT_TIME_ZONE)
    total = counts["ready_to_update"]
    pages = max(1, -(-total // PAGE_SIZE))
    if schedule == "never":
        next_sync = "not scheduled, only Sync Now exports them"
    else:
        next_sync = local_time(_datetime(next_sync_at), zone) or "within a minute"
    # The open tab's validator (portal/erp_integrations/live.py): the company's state from one
    # query, and what this approver's view shows of it (no refusal, ERP Integrations admin,
    # may push to accounting), hashed with the app's secret.
    state = database.all(validator_sql(database.postgresql, company_id))
    view = (
        "ready_to_update", "", 1, user_id, company_id, session_version, None, int(Level.ADMIN), True,
        next_sync, zone_name, PAGE_SIZE,
    )
    return environment().get_template("erp_integrations/jobs.html").render(
        live_url=url_for("erp_integrations.jobs_live", filter="ready_to_update"),
        live_etag=jobs_etag(secret, state, view),
        csrf_token=lambda: csrf_token,
        current_user=SimpleNamespace(is_authenticated=True, name=user_name),
        layout=SimpleNamespace(
            company=SimpleNamespace(name=name), tools=TOOLS, time_zone=zone,
            waiting_updates=counts["waiting_for_approval"] + counts["failed_to_export"],
        ),
        filters=JOB_FILTERS,
        filter_key="ready_to_update",
        filter_label="Ready to Update",
        counts=counts,
        search="",
        page=SimpleNamespace(
            items=items, page=1, pages=pages, total=total, has_prev=False, has_next=pages > 1
        ),
        refusal=None,
        row_refusals={row.id: None for row in items},
        company=SimpleNamespace(slug=slug),
        next_sync=next_sync,
        can_sync=True,
        export_note=None,
    )
