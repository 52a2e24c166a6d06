"""The floors: a bare Flask app that renders the same rows from raw sqlite3 with Jinja.

No ORM, no login, no permission checks, no layout: what the hardware gives for these rows.
"""

from __future__ import annotations

import os
import sqlite3
from functools import cache
from itertools import groupby

from flask import Flask, render_template_string

READY_TO_UPDATE_SQL = """
SELECT p.number, p.name, p.erp_job_number, u.name, r.requested_at,
       (SELECT count(*) FROM update_request_lines l WHERE l.request_id = r.id)
FROM cost_code_update_requests r
JOIN projects p ON p.id = r.project_id
JOIN users u ON u.id = r.requested_by_id
WHERE r.company_id = ? AND r.status IN ('requested', 'approved')
ORDER BY r.status, r.requested_at LIMIT 50 OFFSET 0
"""
# The Cost Codes for Update window: one row per code with a box per company cost type, the
# requested ones and those already in the ERP marked, as the portal's window shows them.
WINDOW_SQL = """
SELECT code, description, cost_type_code, change, project_cost_code_id FROM update_request_lines
WHERE request_id = ? ORDER BY length(code), code, cost_type_code
"""
WINDOW_EXPORTED_SQL = """
SELECT a.project_cost_code_id, t.code FROM cost_type_assignments a JOIN cost_types t ON t.id = a.cost_type_id
WHERE a.erp_state = 'exported' AND a.project_cost_code_id IN
      (SELECT project_cost_code_id FROM update_request_lines WHERE request_id = ?)
"""
WINDOW_COST_TYPES_SQL = """
SELECT code, code || ' ' || name FROM cost_types
WHERE company_id = (SELECT company_id FROM cost_code_update_requests WHERE id = ?) ORDER BY code
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


@cache
def _window_template():
    # Compiled once, as the portal's templates are.
    return app.jinja_env.from_string(WINDOW)


@app.route("/window/<int:request_id>")
def window(request_id: int):
    connection = sqlite3.connect(os.environ["BENCH_SQLITE_PATH"])
    try:
        lines = connection.execute(WINDOW_SQL, (request_id,)).fetchall()
        exported: dict[int, set[str]] = {}
        for code_id, type_code in connection.execute(WINDOW_EXPORTED_SQL, (request_id,)):
            exported.setdefault(code_id, set()).add(type_code)
        cost_types = connection.execute(WINDOW_COST_TYPES_SQL, (request_id,)).fetchall()
    finally:
        connection.close()
    rows = []
    for (code, code_id), group in groupby(lines, key=lambda line: (line[0], line[4])):
        group = list(group)
        change = "new_code" if any(line[3] == "new_code" for line in group) else group[0][3]
        rows.append((code, group[0][1], {line[2] for line in group}, change, exported.get(code_id, set())))
    return _window_template().render(rows=rows, cost_types=cost_types)
