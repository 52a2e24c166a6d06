"""Rule 6 with real concurrency: 20 approvers' Update POSTs hit a running server at once.

The server is waitress with 8 worker threads on the test's database (SQLite file, or PostgreSQL
with PORTAL_TEST_DB=postgresql); each client is a separate logged-in session speaking plain HTTP.
"""

from __future__ import annotations

import http.client
import threading
from functools import partial
from urllib.parse import urlencode, urlsplit

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, CostTypeAssignment, UpdateRequestLine
from tests.helpers import AuthActions, run_together, waiting_request

CLIENTS = 20


def _logged_in_session(app, role: str) -> tuple[str, str]:
    """A session cookie and CSRF token for `role`, as a browser holds them after logging in."""
    client = app.test_client()
    AuthActions(client).login_as(role)
    token = client.csrf_token()
    return client.get_cookie("session").value, token


def _post(base: str, path: str, cookie: str, token: str, body: str) -> tuple[int, str]:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Cookie": f"session={cookie}",
                "X-CSRFToken": token,
                "HX-Request": "true",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_twenty_simultaneous_updates_approve_once(app, live_server):
    request = waiting_request()
    line_count = len(request.lines)
    path = f"/erp-integrations/requests/{request.id}/update"
    body = urlencode({"seen_lines": line_count})
    sessions = [_logged_in_session(app, "approver" if n % 2 else "admin") for n in range(CLIENTS)]
    db.session.rollback()  # let the server's writers have the database

    start = threading.Barrier(CLIENTS)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def click_update(cookie: str, token: str) -> None:
        start.wait()
        outcome = _post(live_server, path, cookie, token, body)
        with lock:
            results.append(outcome)

    run_together([partial(click_update, *session) for session in sessions], timeout=120)

    statuses = sorted(status for status, _ in results)
    assert len(results) == CLIENTS
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == CLIENTS - 1, statuses
    refusals = [text for status, text in results if status == 409]
    assert all("Already approved by" in text for text in refusals)

    db.session.expire_all()
    assert request.status == "approved"
    approvals = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "cost_code_update.approve")
    )
    assert approvals == 1
    # One export batch: the request's lines, once each, pending for the next sync.
    lines = db.session.scalars(
        select(UpdateRequestLine).where(UpdateRequestLine.request_id == request.id)
    ).all()
    assert len(lines) == line_count and {line.export_state for line in lines} == {"pending"}
    states = db.session.scalars(
        select(CostTypeAssignment.erp_state).where(
            CostTypeAssignment.id.in_([line.assignment_id for line in lines])
        )
    ).all()
    assert set(states) == {"approved"}
