"""The floors: a bare Flask app that sends the same pages from raw SQL with compiled templates.

No ORM, no log-in, no permission checks: what the hardware gives for the same work. The
database is BENCH_DATABASE_URL (the portal's own: raw sqlite3 on SQLite, raw psycopg on
PostgreSQL).
"""

from __future__ import annotations

import os
from functools import cache
from itertools import groupby

from flask import Flask
from flask_compress import Compress
from itsdangerous import URLSafeTimedSerializer

from bench.floor_jobs import Database, jobs_page
from portal.config import Config

# The page's CSRF token: one signed at start-up, as long as the one the portal signs for the
# bench's session (bench.session.signed_session), so the pages are the same size.
FLOOR_CSRF_TOKEN = URLSafeTimedSerializer("floor", salt="wtf-csrf-token").dumps("bench-csrf-1")

# The Cost Codes for Update window: one row per code with a box per company cost type, the
# requested ones and those already in the ERP marked, as the portal's window shows them.
WINDOW_SQL = """
SELECT code, description, cost_type_code, change, project_cost_code_id FROM update_request_lines
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
WINDOW = (
    '<!doctype html><title>floor</title><table><tbody>\n'
    "{% for code, description, requested, change, exported in rows -%}\n"
    '<tr><th scope="row" class="code">{{ code }}</th><td>{{ description }}</td>\n'
    "{%- for type_code, label in cost_types -%}\n"
    "{%- if type_code in requested -%}\n"
    '<td class="center box-requested"><input type="checkbox" disabled checked '
    'aria-label="{{ code }} {{ label }} (requested)">'
    '<span class="box-mark" aria-hidden="true">New</span></td>\n'
    "{%- elif type_code in exported -%}\n"
    '<td class="center box-in-erp"><input type="checkbox" disabled checked '
    'aria-label="{{ code }} {{ label }} (already in the ERP)">'
    '<span class="box-mark" aria-hidden="true">ERP</span></td>\n'
    "{%- else -%}\n"
    '<td class="center"><input type="checkbox" disabled aria-label="{{ code }} {{ label }}"></td>\n'
    "{%- endif -%}\n"
    "{%- endfor -%}\n"
    '<td>{% if change == "new_code" %}<span class="tag tag-ok">New code</span>'
    '{% else %}<span class="tag tag-warning">Adds cost type</span>{% endif %}</td></tr>\n'
    "{% endfor %}</tbody></table>"
)

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
    return jobs_page(database(), user_id, company_id, FLOOR_CSRF_TOKEN)


@cache
def _window_template():
    # Compiled once, as the portal's templates are.
    return app.jinja_env.from_string(WINDOW)


@app.route("/window/<int:request_id>")
def window(request_id: int):
    lines = database().all(WINDOW_SQL, request_id=request_id)
    exported: dict[int, set[str]] = {}
    for code_id, type_code in database().all(WINDOW_EXPORTED_SQL, request_id=request_id):
        exported.setdefault(code_id, set()).add(type_code)
    cost_types = database().all(WINDOW_COST_TYPES_SQL, request_id=request_id)
    rows = []
    for (code, code_id), group in groupby(lines, key=lambda line: (line[0], line[4])):
        group = list(group)
        change = "new_code" if any(line[3] == "new_code" for line in group) else group[0][3]
        rows.append((code, group[0][1], {line[2] for line in group}, change, exported.get(code_id, set())))
    return _window_template().render(rows=rows, cost_types=cost_types)
