"""Refresh all projects: 1,000 projects x 5,000 company codes (5 million project codes).

Company Admin -> ERP Standard Cost Codes -> Refresh all projects, posted as the company admin
does, in a child process so its peak RSS is its own (`python -m bench.refresh_all URL ADMIN_ID`);
HUEY_IMMEDIATE runs each project's refresh task (the code a huey worker runs) inside the post.
Twice: from empty, then when already up to date (the company list marked changed, nothing in
it changed, so every project is compared and nothing is written).

Floor: raw sqlite3 doing what the user gets, one transaction per project: a job per project,
queued, then succeeded with its counts, with audit events as ours; the company list read and
compared with the project's codes, the missing rows written by executemany, the project marked
refreshed.

Meanwhile a served portal (gunicorn -w 2) answers the Jobs tab in a loop; its p99 while the
refresh runs is compared with its p99 idle: readers must not be starved by the writer.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime

from bench import generate_bulk
from bench.scratch import twin_databases

SIZE = {False: (1_000, 5_000), True: (40, 2_000)}
READ_PATH = "/erp-integrations/jobs?filter=ready_to_update"
REQUEST_EVERY = 10


def run(bench) -> None:
    from bench.harness import Row

    projects, codes = SIZE[bench.quick]

    def build(session):
        made = generate_bulk.company(session, "refresh-all")
        generate_bulk.standard_codes(session, made.company_id, codes)
        generate_bulk.projects(session, made.company_id, projects, refreshed=False)
        generate_bulk.open_requests(session, made.company_id, made.pm_id, REQUEST_EVERY)
        return made

    with twin_databases(bench, "refresh-all", build) as twin:
        made = twin.built
        with _Reader(bench, twin.url, made.admin_id) as reader:
            idle = reader.read_for(3 if bench.quick else 10)
            for label in ("from empty", "already up to date"):
                if label != "from empty":
                    _mark_list_changed(bench, twin.url, twin.floor_path)
                reader.start()
                ours = _child(bench, twin.url, made.admin_id)
                busy = reader.stop()
                writing = label == "from empty"
                floor, floor_cpu = _floor(twin.floor_path, made.company_id, made.admin_id, writing=writing)
                if ours["succeeded"] != projects or ours["codes"] != projects * codes:
                    raise RuntimeError(f"refresh all projects {label}: {ours}")
                ok = (
                    ours["seconds"] <= 2 * floor
                    and ours["peak_rss_mb"] <= 300
                    and _p99(busy) <= 2 * _p99(idle)
                    and reader.errors == 0
                )
                bench.add(
                    Row(
                        f"Refresh all projects, {projects:,} x {codes:,} codes, {label}",
                        ours["seconds"], floor, "s", "time",
                        "<= 2x floor, <= 300 MB, Jobs tab p99 <= 2x idle", ok,
                        f"peak RSS {ours['peak_rss_mb']:.0f} MB; CPU {ours['cpu_seconds']:.1f} s, floor's "
                        f"{floor_cpu:.1f} s ({ours['cpu_seconds'] / floor_cpu:.2f}x); "
                        f"Jobs tab p99 {_p99(busy):.0f} ms while it ran ({len(busy)} reads) "
                        f"vs {_p99(idle):.0f} ms idle ({len(idle)}); "
                        f"read errors {reader.errors}",
                    )
                )


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) >= 2 else (samples or [0.0])[0]


def _mark_list_changed(bench, url: str, floor_path) -> None:
    """As a sync that found the company list changed: every project is out of date again."""
    from bench.scratch import portal_app
    from portal.extensions import db

    now = datetime.now(UTC).replace(tzinfo=None)
    app = portal_app(bench, url)
    with app.app_context():
        db.session.execute(db.text("UPDATE companies SET standard_codes_changed_at = :now"), {"now": now})
        db.session.commit()
        db.engine.dispose()
    with sqlite3.connect(floor_path) as connection:
        connection.execute("UPDATE companies SET standard_codes_changed_at = ?", (now.isoformat(" "),))


def _child(bench, url: str, admin_id: int) -> dict:
    from bench.harness import ROOT

    output = subprocess.run(
        [sys.executable, "-m", "bench.refresh_all", url, str(admin_id)],
        cwd=ROOT, env=bench.env, capture_output=True, text=True, timeout=3600,
    )
    if output.returncode != 0:
        raise RuntimeError(output.stderr[-3000:])
    return json.loads(output.stdout.strip().splitlines()[-1])


_AUDIT = (
    "INSERT INTO audit_events (company_id, actor_id, actor_name, action, object_type, object_id, "
    "object_label, project_id, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, datetime('now'))"
)


def _floor(path, company_id: int, admin_id: int, *, writing: bool) -> tuple[float, float]:
    """What the user gets from Refresh all projects, in raw sqlite3: a job per project (queued,
    then succeeded with its counts) with its audit events, and the project's codes."""
    connection = sqlite3.connect(path, isolation_level=None)
    started, cpu = time.perf_counter(), time.process_time()
    admin_name, = connection.execute("SELECT name FROM users WHERE id = ?", (admin_id,)).fetchone()
    projects = connection.execute(
        "SELECT id, number || ' ' || name FROM projects WHERE company_id = ? AND NOT archived "
        "ORDER BY number",
        (company_id,),
    ).fetchall()
    batch = f"floor-{time.time()}"
    jobs = {}
    for project_id, label in projects:
        connection.execute("BEGIN")
        jobs[project_id] = connection.execute(
            "INSERT INTO refresh_jobs (company_id, project_id, requested_by_id, batch_id, status, "
            "progress_done, progress_total, added, updated, unchanged, not_in_company_list, skipped, "
            "created_at) VALUES (?, ?, ?, ?, 'queued', 0, 0, 0, 0, 0, 0, '[]', datetime('now'))",
            (company_id, project_id, admin_id, batch),
        ).lastrowid
        connection.execute(_AUDIT, (company_id, admin_id, admin_name, "project.refresh_cost_codes.start",
                                    "project", str(project_id), label, project_id, "{}"))
        connection.execute("COMMIT")
    connection.execute(_AUDIT, (company_id, admin_id, admin_name, "company.refresh_all_projects",
                                "company", str(company_id), "", None, "{}"))
    for project_id, label in projects:
        connection.execute("BEGIN")
        company_list = connection.execute(
            "SELECT id, code, description, division FROM standard_cost_codes WHERE company_id = ? "
            "AND active AND NOT archived ORDER BY id",
            (company_id,),
        ).fetchall()
        mine = dict(connection.execute(
            "SELECT code, description FROM project_cost_codes WHERE project_id = ?", (project_id,)
        ).fetchall())
        missing = [row for row in company_list if row[1] not in mine]
        changed = [row[1] for row in company_list if mine.get(row[1], row[2]) != row[2]]
        assert not changed and (len(missing) == len(company_list) if writing else not missing), project_id
        connection.executemany(
            "INSERT INTO project_cost_codes (project_id, standard_cost_code_id, code, description, "
            "division, active, origin, not_in_company_list, created_at) "
            "VALUES (?, ?, ?, ?, ?, 1, 'company', 0, datetime('now'))",
            [(project_id, *row) for row in missing],
        )
        connection.execute(
            "UPDATE refresh_jobs SET status = 'succeeded', started_at = datetime('now'), "
            "finished_at = datetime('now'), progress_done = ?, progress_total = ?, added = ?, "
            "unchanged = ? WHERE id = ?",
            (len(company_list), len(company_list), len(missing), len(company_list) - len(missing),
             jobs[project_id]),
        )
        connection.execute(
            "UPDATE projects SET cost_codes_refreshed_at = datetime('now') WHERE id = ?", (project_id,)
        )
        connection.execute(_AUDIT, (company_id, admin_id, admin_name, "project.refresh_cost_codes",
                                    "project", str(project_id), label, project_id,
                                    json.dumps({"added": len(missing)})))
        connection.execute("COMMIT")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    connection.close()
    return seconds, cpu


class _Reader:
    """One browser on the Jobs tab, reading it again as soon as each answer is in."""

    def __init__(self, bench, url: str, admin_id: int):
        self.bench, self.url, self.admin_id = bench, url, admin_id
        self.errors = 0
        self._samples: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Reader:
        from bench.harness import BIN, ROOT, free_port, wait_for_answer, wait_for_port
        from bench.scratch import portal_app
        from bench.session import server_log, signed_session
        from portal.extensions import db
        from portal.models import User

        app = portal_app(self.bench, self.url)
        with app.app_context():
            self.cookie = signed_session(app, db.session.get(User, self.admin_id), "bench-csrf-reader")
            db.session.remove()
            db.engine.dispose()
        self.port = free_port()
        self.server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
             "wsgi:app"],
            cwd=ROOT, env={**self.bench.env, "DATABASE_URL": self.url},
            stdout=subprocess.DEVNULL, stderr=server_log("refresh-all"),
        )
        wait_for_port(self.port)
        wait_for_answer(self.port, READ_PATH, self.cookie)
        self.read_for(1)  # every worker warm
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.server.terminate()
        self.server.wait(timeout=10)

    def _read(self) -> None:
        from bench.session import USER_AGENT

        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{READ_PATH}",
            headers={"Cookie": f"session={self.cookie}", "User-Agent": USER_AGENT},
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
        except OSError:
            self.errors += 1
        self._samples.append((time.perf_counter() - started) * 1000)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._read()

    def read_for(self, seconds: float) -> list[float]:
        self.start()
        time.sleep(seconds)
        return self.stop()

    def start(self) -> None:
        self._samples, self._stop = [], threading.Event()
        self._thread = threading.Thread(target=self._loop)
        self._thread.start()

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join(timeout=300)
        return self._samples


def main() -> None:
    """The child: post Refresh all projects as the company admin; print one JSON line."""
    from itsdangerous import URLSafeTimedSerializer
    from sqlalchemy import func, select

    from bench.probe import peak_rss_mb
    from bench.session import USER_AGENT, signed_session
    from portal import create_app, settle_for_serving
    from portal.config import Config
    from portal.extensions import db
    from portal.models import JobStatus, ProjectCostCode, RefreshJob, User, utcnow

    url, admin_id = sys.argv[1], int(sys.argv[2])
    app = create_app(Config, SQLALCHEMY_DATABASE_URI=url, HUEY_IMMEDIATE=True, RATELIMIT_ENABLED=False)
    settle_for_serving()
    with app.app_context():
        admin = db.session.get(User, admin_id)
        company_id = admin.company_id
        cookie = signed_session(app, admin, "bench-csrf-refresh-all")
        db.session.remove()
    token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps("bench-csrf-refresh-all")
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    client.set_cookie("session", cookie)
    with app.test_request_context():
        path = app.url_for("company_admin.start_refresh_all")
    posted_at = utcnow()
    started, cpu = time.perf_counter(), time.process_time()
    response = client.post(path, data={"csrf_token": token}, headers={"HX-Request": "true"})
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if response.status_code not in (200, 286):  # 286: htmx's "stop polling", the batch is done
        raise SystemExit(f"Refresh all projects answered {response.status_code}")
    with app.app_context():
        succeeded = db.session.scalar(
            select(func.count()).select_from(RefreshJob)
            .where(RefreshJob.company_id == company_id, RefreshJob.status == JobStatus.SUCCEEDED)
            .where(RefreshJob.created_at >= posted_at)
        )
        codes = db.session.scalar(select(func.count()).select_from(ProjectCostCode))
    result = {
        "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb(), "succeeded": succeeded,
        "codes": codes,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
