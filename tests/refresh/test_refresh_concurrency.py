"""Ten people (or ten double clicks) start a refresh of one project at the same instant.

The requests go to a real server (waitress threads), each on its own database connection, so
"one queued/running job per project" must hold through the unique index, not the page. Runs on
SQLite and, with PORTAL_TEST_DB=postgresql, on PostgreSQL.
"""
from __future__ import annotations

import threading
import urllib.request

from portal.extensions import db
from tests.helpers import first_project, run_together
from tests.refresh.refresh_support import jobs_of

CLICKS = 10


def test_ten_simultaneous_refresh_clicks_make_exactly_one_job(
    app, client, auth, live_server, monkeypatch
):
    # No worker: every job stays queued, so each click races the others for the one slot.
    monkeypatch.setattr("portal.project_admin.refresh.enqueue_refresh", lambda job_id: None)
    project = first_project()
    auth.login_as("pm")
    token = client.csrf_token()  # stored in the signed session cookie that every thread sends
    cookie = client.get_cookie("session").value
    url = f"{live_server}/projects/{project.id}/admin/work-breakdown-structure/segments/cost-code/refresh"
    db.session.rollback()  # SQLite: the test's own read transaction would hold the write lock
    barrier = threading.Barrier(CLICKS)
    answers: list[tuple[int, str]] = []

    def click():
        request = urllib.request.Request(url, data=b"", method="POST", headers={
            "Cookie": f"session={cookie}", "X-CSRFToken": token, "HX-Request": "true",
        })
        barrier.wait()
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            answers.append((response.status, response.read().decode()))

    run_together([click] * CLICKS)

    assert [status for status, _ in answers] == [200] * CLICKS
    assert all("refresh is in progress" in body for _, body in answers)
    jobs = jobs_of(project)
    assert len(jobs) == 1 and jobs[0].status == "queued"
