"""The rows of the Cost Codes for Update window, built in Python rather than in a Jinja loop.

A request can hold thousands of lines, each with a disabled checkbox per company cost type; the
window must open about as fast as a bare table of the same rows (see bench/, "Cost Codes for
Update window"), and a Jinja loop over ten thousand checkbox cells is several times slower.
Everything from the database is escaped here, as Jinja would.
"""
from __future__ import annotations

from html import escape

from markupsafe import Markup

from portal.models import CostType
from portal.services.approvals import RequestedLine

CHANGE_TAGS = {
    "new_code": '<td><span class="tag tag-ok">New code</span></td>',
    "new_cost_type": '<td><span class="tag tag-warning">Adds cost type</span></td>',
}


def _cells_template(types: list[tuple[str, str]], requested: str, exported: frozenset[str]) -> list[str]:
    """One line's checkbox cells, split where the line's (escaped) code goes."""
    cells = []
    for type_code, type_label in types:
        if type_code == requested:
            state = f' checked aria-label="\0 {type_label} (requested)"'
        elif type_code in exported:
            state = f' checked aria-label="\0 {type_label} (already in the ERP)"'
        else:
            state = f' aria-label="\0 {type_label}"'
        cells.append(f'<td class="center"><input type="checkbox" disabled{state}></td>')
    return "".join(cells).split("\0")


def requested_line_rows(lines: list[RequestedLine], cost_types: list[CostType]) -> Markup:
    """Read-only rows (rule 2): every checkbox is disabled; ticked for the line's cost type and
    for those the code already has in the ERP."""
    types = [
        (cost_type.code, escape(cost_type.label).replace("\0", "")) for cost_type in cost_types
    ]
    # Lines share a handful of (requested, already exported) patterns: build each pattern once.
    patterns: dict[tuple[str, frozenset[str]], list[str]] = {}
    rows = []
    for line in lines:
        key = (line.cost_type_code, line.exported)
        cells = patterns.get(key)
        if cells is None:
            cells = patterns[key] = _cells_template(types, *key)
        code = escape(line.code)
        rows.append(
            f'<tr><td class="code">{code}</td><td>{escape(line.description)}</td>'
            f'{code.join(cells)}{CHANGE_TAGS.get(line.change, "<td></td>")}</tr>'
        )
    return Markup("\n".join(rows))  # noqa: S704 (every value above is escaped)
