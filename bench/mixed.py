"""Mixed load against `gunicorn -w 2`: readers on the Jobs tab while approvals and refreshes land.

Lost updates are approvals or refreshes the server answered as done that the database does not
hold afterwards; they must be 0, as must errors (any 5xx, or a refused connection).
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from flask import url_for
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from bench.session import USER_AGENT, server_log, signed_session

READERS = 4
APPROVALS = 20
REFRESHES = 5


def _cookie_and_token(app, user) -> tuple[str, str]:
    raw = f"bench-csrf-{user.id}"
    token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)
    return signed_session(app, user, raw), token


def _call(url: str, cookie: str, data: dict | None = None) -> int:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Cookie": f"session={cookie}", "HX-Request": "true", "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback only)
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 599


def run_mixed_load(bench, seconds: int) -> dict:
    from bench.harness import BIN, ROOT, free_port, wait_for_port
    from portal.extensions import db
    from portal.models import CostCodeUpdateRequest, RefreshJob, User

    app = bench.app
    with app.app_context():
        approver = db.session.get(User, bench.ids.approver_id)
        pm = db.session.get(User, bench.ids.pm_id)
        approver.company.requester_may_not_approve = False
        db.session.commit()
        approver_cookie, approver_token = _cookie_and_token(app, approver)
        pm_cookie, pm_token = _cookie_and_token(app, pm)
        request_ids = list(
            db.session.scalars(
                select(CostCodeUpdateRequest.id)
                .where(CostCodeUpdateRequest.status == "requested")
                .order_by(CostCodeUpdateRequest.id.desc())
                .offset(2)
                .limit(APPROVALS)
            )
        )
        project_ids = [p.project_id for p in pm.project_permissions][:REFRESHES]
        with app.test_request_context():
            read_path = url_for("erp_integrations.jobs", filter="ready_to_update")
            approve_paths = [url_for("erp_integrations.approve_request", request_id=r) for r in request_ids]
            refresh_paths = [url_for("project_admin.refresh_cost_codes", project_id=p) for p in project_ids]
        db.session.remove()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            "2",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=bench.env,
        stdout=subprocess.DEVNULL,
        stderr=server_log("mixed-load"),
    )
    latencies: list[float] = []
    errors: list[int] = []
    accepted = {"approvals": 0, "refreshes": 0}
    stop = threading.Event()
    lock = threading.Lock()

    def reader() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            status = _call(base + read_path, approver_cookie)
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                if status >= 500:
                    errors.append(status)

    def writer() -> None:
        # Every fifth write is a refresh; all writes are made, spread over the first 80% of the run.
        approvals = [("approvals", path, approver_cookie, approver_token) for path in approve_paths]
        refreshes = [("refreshes", path, pm_cookie, pm_token) for path in refresh_paths]
        writes = []
        for index, write in enumerate(approvals):
            writes.append(write)
            if index % 4 == 3 and refreshes:
                writes.append(refreshes.pop(0))
        writes += refreshes
        pause = seconds * 0.8 / max(1, len(writes))
        for kind, path, cookie, token in writes:
            status = _call(base + path, cookie, {"csrf_token": token})
            with lock:
                if status >= 500:
                    errors.append(status)
                elif status < 400:
                    accepted[kind] += 1
            time.sleep(pause)

    try:
        wait_for_port(port)
        threads = [threading.Thread(target=reader) for _ in range(READERS)] + [
            threading.Thread(target=writer)
        ]
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        threads[-1].join(timeout=300)  # the writer makes all its writes, however long they take
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=10)

    with app.app_context():
        approved = db.session.scalar(
            select(func.count())
            .select_from(CostCodeUpdateRequest)
            .where(CostCodeUpdateRequest.id.in_(request_ids), CostCodeUpdateRequest.status == "approved")
        )
        refreshed = db.session.scalar(
            select(func.count(func.distinct(RefreshJob.project_id))).where(
                RefreshJob.project_id.in_(project_ids), RefreshJob.status == "succeeded"
            )
        )
    lost = max(0, accepted["approvals"] - approved) + max(0, accepted["refreshes"] - refreshed)
    ordered = sorted(latencies) or [0.0]
    return {
        "reads": len(latencies),
        "errors": len(errors),
        "lost_updates": lost,
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1],
        "approvals_accepted": accepted["approvals"],
        "approved": approved,
        "refreshes_accepted": accepted["refreshes"],
        "refreshed": refreshed,
    }
