"""The bench's floors do the same work as the portal: the Jobs tab's floor sends the same page.

A floor is what the hardware gives for the same work (bench/floor_jobs.py); if it drifted from
the portal's page (a row template changed, a count added), its ratio would no longer say what
our code adds. No timing here: speed is measured only in `make bench`.
"""
from __future__ import annotations

import difflib
import re
from datetime import datetime

import pytest

from bench.floor_app import window_partial
from bench.floor_jobs import Database, jobs_page
from bench.generate import Scale, generate
from bench.session import USER_AGENT, signed_session
from portal.extensions import db
from portal.models import CostCodeUpdateRequest, RequestStatus, User

# Two pages of Ready to Update (paging shown), approved rows among them, a few lines each.
TINY = Scale(
    projects=120, standard_codes=60, requests=60, lines_per_request=2, big_request_lines=20,
    audit_events=10, codes_on_job=2,
)
CSRF = re.compile(r'(name="csrf_token" value="|"X-CSRFToken": ")[^"]*"')


def _masked(html: str, user_name: str) -> str:
    return CSRF.sub(r'\1CSRF"', html).replace(user_name, "USER")


def _difference(ours: str, floor: str) -> str:
    lines = difflib.unified_diff(ours.splitlines(), floor.splitlines(), "portal", "floor", lineterm="", n=1)
    return "\n".join(list(lines)[:40])


@pytest.fixture
def generated(app):
    ids = generate(db.session, TINY)
    # An approved request waiting for the next sync, shown at the top with its Sync Now.
    approved = db.session.get(CostCodeUpdateRequest, ids.request_ids[0])
    approved.status = RequestStatus.APPROVED
    approved.approved_by_id, approved.approved_at = ids.approver_id, datetime(2026, 1, 6, 9, 30)
    db.session.commit()
    return ids


def test_jobs_tab_floor_sends_the_portals_page(app, database_url, generated):
    approver = db.session.get(User, generated.approver_id)
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    client.set_cookie("session", signed_session(app, approver, "bench-csrf"))
    response = client.get("/erp-integrations/jobs?filter=ready_to_update")
    assert response.status_code == 200
    ours = response.get_data(as_text=True)
    assert ours.count('<tr id="update-request-') == 50, "the page should be a full page of rows"
    assert "Page 1 of 2" in ours
    assert ours.count('class="approved"') == 1

    floor = jobs_page(Database(database_url), generated.approver_id, generated.company_id, "token",
                      app.config["SECRET_KEY"])

    difference = _difference(_masked(ours, approver.name), _masked(floor, approver.name))
    assert not difference, difference


def test_update_window_floor_sends_the_portals_window(app, database_url, generated):
    approver = db.session.get(User, generated.approver_id)
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    client.set_cookie("session", signed_session(app, approver, "bench-csrf"))
    url = f"/erp-integrations/requests/{generated.big_request_id}/requested-updates"
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    ours = response.get_data(as_text=True)
    assert ours.count('<th scope="row" class="code">') == TINY.big_request_lines

    floor = window_partial(Database(database_url), generated.big_request_id)

    assert not _difference(ours, floor), _difference(ours, floor)
