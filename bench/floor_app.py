"""The floors: a bare Flask app that renders the same rows from raw sqlite3 with Jinja.

No ORM, no login, no permission checks, no layout: what the hardware gives for these rows.
"""

from __future__ import annotations

import os
import sqlite3

from flask import Flask, render_template_string

READY_TO_UPDATE_SQL = """
SELECT p.number, p.name, p.erp_job_number, u.name, r.requested_at,
       (SELECT count(*) FROM update_request_lines l WHERE l.request_id = r.id)
FROM cost_code_update_requests r
JOIN projects p ON p.id = r.project_id
JOIN users u ON u.id = r.requested_by_id
WHERE r.company_id = ? AND r.status = 'requested'
ORDER BY r.requested_at LIMIT 50 OFFSET 0
"""
WINDOW_SQL = """
SELECT code, description, cost_type_code, change FROM update_request_lines
WHERE request_id = ? ORDER BY code, cost_type_code
"""
TABLE = """<!doctype html><title>floor</title><table>
{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</table>"""

app = Flask(__name__)


def _rows(sql: str, parameter: int) -> list[tuple]:
    connection = sqlite3.connect(os.environ["BENCH_SQLITE_PATH"])
    try:
        return connection.execute(sql, (parameter,)).fetchall()
    finally:
        connection.close()


@app.route("/ready-to-update/<int:company_id>")
def ready_to_update(company_id: int):
    return render_template_string(TABLE, rows=_rows(READY_TO_UPDATE_SQL, company_id))


@app.route("/window/<int:request_id>")
def window(request_id: int):
    return render_template_string(TABLE, rows=_rows(WINDOW_SQL, request_id))
