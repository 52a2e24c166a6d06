"""The floors: a bare Flask app that sends the same pages from raw SQL with compiled templates.

No ORM, no log-in, no permission checks: what the hardware gives for the same work. The
database is BENCH_DATABASE_URL (the portal's own: raw sqlite3 on SQLite, raw psycopg on
PostgreSQL).
"""

from __future__ import annotations

import os
from functools import cache
from itertools import groupby
from types import SimpleNamespace

from flask import Flask
from flask_compress import Compress
from itsdangerous import URLSafeTimedSerializer

from bench.floor_jobs import Database, environment, jobs_page
from bench.harness import SECRET
from portal.config import Config

# The page's CSRF token: one signed at start-up, as long as the one the portal signs for the
# bench's session (bench.session.signed_session), so the pages are the same size.
FLOOR_CSRF_TOKEN = URLSafeTimedSerializer("floor", salt="wtf-csrf-token").dumps("bench-csrf-1")

# The Cost Codes for Update window (its htmx partial): one row per code with a box per company
# cost type, the requested ones and those already in the ERP marked, through the portal's own
# template (bench/floor_jobs.py's environment).
WINDOW_SQL = """
SELECT code, project_cost_code_id, description, cost_type_code, change FROM update_request_lines
WHERE request_id = :request_id ORDER BY length(code), code, cost_type_code
"""
WINDOW_EXPORTED_SQL = """
SELECT a.project_cost_code_id, t.code FROM cost_type_assignments a JOIN cost_types t ON t.id = a.cost_type_id
WHERE a.erp_state = 'exported' AND a.project_cost_code_id IN
      (SELECT project_cost_code_id FROM update_request_lines WHERE request_id = :request_id)
"""
WINDOW_COST_TYPES_SQL = """
SELECT code, code || ' ' || name FROM cost_types
WHERE company_id = (SELECT company_id FROM cost_code_update_requests WHERE id = :request_id) ORDER BY code
"""
WINDOW_REQUEST_SQL = """
SELECT p.number || ' ' || p.name, p.erp_job_number, u.name, r.requested_at, r.status
FROM cost_code_update_requests r JOIN projects p ON p.id = r.project_id
JOIN users u ON u.id = r.requested_by_id WHERE r.id = :request_id
"""
REQUEST_STATES = {
    "requested": "Waiting for approval",
    "approved": "Approved: waits for the next sync",
    "exported": "Exported",
    "rejected": "Rejected",
    "failed": "Failed to export",
}

app = Flask(__name__)
# The same compression as the portal's, so the floor sends the same bytes.
app.config.update({key: value for key, value in vars(Config).items() if key.startswith("COMPRESS_")})
Compress(app)


@cache
def database() -> Database:
    return Database(os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{os.environ['BENCH_SQLITE_PATH']}")


@app.route("/jobs/<int:company_id>/<int:user_id>")
def jobs(company_id: int, user_id: int):
    """The Jobs tab, Ready to Update, as the approver sees it (bench/floor_jobs.py)."""
    return jobs_page(database(), user_id, company_id, FLOOR_CSRF_TOKEN, SECRET)


@app.route("/window/<int:request_id>")
def window(request_id: int):
    return window_partial(database(), request_id)


def window_partial(database: Database, request_id: int) -> str:
    """The window as the portal's htmx answer renders it."""
    label, job, requested_by, requested_at, status = database.one(WINDOW_REQUEST_SQL, request_id=request_id)
    exported: dict[int, set[str]] = {}
    for code_id, type_code in database.all(WINDOW_EXPORTED_SQL, request_id=request_id):
        exported.setdefault(code_id, set()).add(type_code)
    none: frozenset[str] = frozenset()
    codes, line_count = [], 0
    for (code, code_id), lines in groupby(
        database.all(WINDOW_SQL, request_id=request_id), key=lambda line: (line[0], line[1])
    ):
        lines = list(lines)
        line_count += len(lines)
        change = "new_code" if any(line[4] == "new_code" for line in lines) else lines[0][4]
        codes.append((
            code, lines[0][2], frozenset(line[3] for line in lines), change,
            frozenset(exported.get(code_id, none)),
        ))
    cost_types = [
        SimpleNamespace(code=code, label=type_label)
        for code, type_label in database.all(WINDOW_COST_TYPES_SQL, request_id=request_id)
    ]
    update_request = SimpleNamespace(
        project=SimpleNamespace(label=label, erp_job_number=job),
        requested_by=SimpleNamespace(name=requested_by),
        requested_at=requested_at, status_label=REQUEST_STATES[status],
    )
    return environment().get_template("erp_integrations/_cost_codes_for_update.html").render(
        update_request=update_request, line_count=line_count, codes=codes, cost_types=cost_types
    )
