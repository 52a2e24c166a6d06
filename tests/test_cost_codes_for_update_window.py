"""The Cost Codes for Update window: one row per code, its cost types as greyed boxes, requested
ones told apart from those already in the ERP, a legend, and a long request scrolling inside."""

from __future__ import annotations

import re
from pathlib import Path

from portal.extensions import db
from portal.models import UpdateRequestLine
from tests.helpers import waiting_request, window_url


def _rows(html: str) -> list[str]:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return re.findall(r"<tr>.*?</tr>", body, flags=re.S)


def test_window_shows_one_row_per_code_with_every_requested_cost_type_ticked(client, auth):
    request = waiting_request()
    line = next(line for line in request.lines if line.change == "new_code")
    # The same code asks for a second cost type: one row, two ticked boxes.
    db.session.add(UpdateRequestLine(
        request_id=request.id, project_cost_code_id=line.project_cost_code_id, code=line.code,
        description=line.description, division=line.division, cost_type_code="3", change="new_code",
    ))
    db.session.commit()
    codes = {line.code for line in request.lines}
    auth.login_as("viewer")
    html = client.htmx_get(window_url(request)).get_data(as_text=True)
    rows = _rows(html)
    assert len(rows) == len(codes) == len(request.lines) - 1
    row = next(row for row in rows if f">{line.code}</th>" in row)
    assert row.count('class="center box-requested"') == 2
    assert f'aria-label="{line.code} 3 Equipment (requested)"' in row
    assert f'{len(request.lines)} lines on {len(codes)} codes' in html


def test_requested_and_in_erp_boxes_look_different_and_the_legend_says_why(client, auth):
    request = waiting_request()
    auth.login_as("approver")
    html = client.htmx_get(window_url(request)).get_data(as_text=True)
    added = next(row for row in _rows(html) if "Adds cost type" in row)
    # Both ticked, each with its own visible mark: "New" (requested) and "ERP" (already there).
    assert re.search(r'box-requested"><input type="checkbox" disabled checked[^>]*>'
                     r'<span class="box-mark" aria-hidden="true">New</span>', added)
    assert re.search(r'box-in-erp"><input type="checkbox" disabled checked[^>]*>'
                     r'<span class="box-mark" aria-hidden="true">ERP</span>', added)
    legend = html[html.index('<dl class="box-legend">') :]
    assert "Requested in this update" in legend and "already has this cost type in the ERP" in legend


def test_long_request_scrolls_inside_a_focusable_region_with_its_headings(client, auth):
    auth.login_as("viewer")
    html = client.htmx_get(window_url(waiting_request())).get_data(as_text=True)
    assert re.search(
        r'<div class="requested-lines-scroll" tabindex="0" role="region" '
        r'aria-labelledby="requested-lines-caption">\s*<table class="data requested-lines">', html
    )
    css = (Path(__file__).parents[1] / "static/css/portal.css").read_text(encoding="utf-8")
    assert re.search(r"\.requested-lines thead th \{ position: sticky; top: 0;", css)
    assert re.search(r"\.requested-lines-scroll \{ max-height: [^;]+; overflow: auto;", css)
