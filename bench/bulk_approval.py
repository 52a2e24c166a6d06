"""Bulk approval: 200 projects' requests approved in one click (Update with 200 rows ticked on
the Jobs tab's Ready to Update), posted as the approver does; time per project.

Floor: raw sqlite3 doing the same approval work, one transaction per request as ours: the
request checked and marked approved, its lines' cost types marked approved, its audit event.
(Ours also renders the Ready to Update panel once, for the answer.)
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime

from bench.generate import Scale, generate
from bench.scratch import portal_app, twin_databases

PROJECTS = 200


def _scale(quick: bool) -> Scale:
    return Scale(
        projects=PROJECTS + 60, standard_codes=2_000, requests=PROJECTS,
        lines_per_request=20 if quick else 50, big_request_lines=20, audit_events=1_000, codes_on_job=5,
    )


def run(bench) -> None:
    from bench.harness import Row

    scale = _scale(bench.quick)
    with twin_databases(bench, "bulk-approval", lambda session: generate(session, scale)) as twin:
        ticked = twin.built.request_ids[:PROJECTS]  # the last one is the big request: not ticked
        seconds, approved = _ours(bench, twin.url, twin.built.approver_id, ticked, scale.lines_per_request)
        floor = _floor(twin.floor_path, twin.built.approver_id, ticked)
    if approved != PROJECTS:
        raise RuntimeError(f"one click approved {approved} of {PROJECTS} requests")
    bench.add(
        Row(
            f"Bulk approval: {PROJECTS} projects' requests ({scale.lines_per_request} lines each) "
            "in one click, per project",
            seconds * 1000 / PROJECTS, floor * 1000 / PROJECTS, "ms", "time", "report", None,
            f"the click took {seconds:.2f} s (floor {floor:.2f} s); {approved} approved",
        )
    )


def _ours(bench, url: str, approver_id: int, ticked: list[int], lines: int) -> tuple[float, int]:
    from itsdangerous import URLSafeTimedSerializer
    from sqlalchemy import func, select

    from bench.session import USER_AGENT, signed_session
    from portal.extensions import db
    from portal.models import CostCodeUpdateRequest, User

    app = portal_app(bench, url)
    with app.app_context():
        cookie = signed_session(app, db.session.get(User, approver_id), "bench-csrf-bulk")
        db.session.remove()
    token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps("bench-csrf-bulk")
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    client.set_cookie("session", cookie)
    with app.test_request_context():
        jobs_path = app.url_for("erp_integrations.jobs", filter="ready_to_update")
        path = app.url_for("erp_integrations.approve_several_requests")
    assert client.get(jobs_path).status_code == 200  # as the approver sees the page before ticking
    form = {"csrf_token": token, "request": [f"{request_id}:{lines}" for request_id in ticked]}
    started = time.perf_counter()
    response = client.post(path, data=form, headers={"HX-Request": "true"})
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"Update with {len(ticked)} rows ticked answered {response.status_code}")
    with app.app_context():
        approved = db.session.scalar(
            select(func.count()).select_from(CostCodeUpdateRequest).where(
                CostCodeUpdateRequest.id.in_(ticked), CostCodeUpdateRequest.status == "approved"
            )
        )
        db.session.remove()
        db.engine.dispose()
    return seconds, approved


def _floor(path, approver_id: int, ticked: list[int]) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    started = time.perf_counter()
    approver_name, = connection.execute("SELECT name FROM users WHERE id = ?", (approver_id,)).fetchone()
    for request_id in ticked:
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        connection.execute("BEGIN IMMEDIATE")
        company_id, project_id, status, label = connection.execute(
            "SELECT r.company_id, r.project_id, r.status, p.number || ' ' || p.name "
            "FROM cost_code_update_requests r JOIN projects p ON p.id = r.project_id WHERE r.id = ?",
            (request_id,),
        ).fetchone()
        assert status == "requested", (request_id, status)
        lines, = connection.execute(
            "SELECT count(*) FROM update_request_lines WHERE request_id = ?", (request_id,)
        ).fetchone()
        connection.execute(
            "UPDATE cost_code_update_requests SET status = 'approved', approved_by_id = ?, approved_at = ? "
            "WHERE id = ? AND status = 'requested'",
            (approver_id, now, request_id),
        )
        connection.execute(
            "UPDATE cost_type_assignments SET erp_state = 'approved' WHERE erp_state IN ('new', 'requested') "
            "AND id IN (SELECT assignment_id FROM update_request_lines WHERE request_id = ?)",
            (request_id,),
        )
        connection.execute(
            "INSERT INTO audit_events (company_id, actor_id, actor_name, action, object_type, object_id, "
            "object_label, project_id, details, created_at) "
            "VALUES (?, ?, ?, 'cost_code_update.approve', 'cost_code_update_request', ?, ?, ?, ?, ?)",
            (company_id, approver_id, approver_name, str(request_id), label, project_id,
             json.dumps({"lines": lines}), now),
        )
        connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return seconds
