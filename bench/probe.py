"""One measurement in a child process, so that its peak RSS is its own.

python -m bench.probe refresh|floor|export|approval-to-erp DATABASE_URL PROJECT_ID ACTOR_ID SCRATCH
Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import sys
import time
from pathlib import Path

from sqlalchemy import insert, select

from bench import replay


def peak_rss_mb() -> float:
    """This process's own high-water mark. (ru_maxrss would include the forking parent's.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _app(url: str):
    from portal import create_app, settle_for_serving
    from portal.config import Config

    app = create_app(Config, SQLALCHEMY_DATABASE_URI=url, HUEY_IMMEDIATE=True, RATELIMIT_ENABLED=False)
    settle_for_serving()  # as a worker process does once its app is built
    return app


def refresh(url: str, project_id: int, actor_id: int) -> dict:
    from portal.extensions import db
    from portal.models import Project, ProjectCostCode, User
    from portal.services.refresh import refresh_project_cost_codes, start_project_refresh

    app = _app(url)
    with app.app_context():
        project, actor = db.session.get(Project, project_id), db.session.get(User, actor_id)
        started = time.perf_counter()
        job = start_project_refresh(db.session, project, actor)
        job = refresh_project_cost_codes(db.session, job.id)
        seconds = time.perf_counter() - started
        codes = db.session.scalar(select(db.func.count()).where(ProjectCostCode.project_id == project_id))
        return {
            "seconds": seconds,
            "peak_rss_mb": peak_rss_mb(),
            "status": job.status,
            "codes": codes,
            "added": job.added,
        }


def raw_connection(url: str):
    """The floors' own connection: sqlite3 on a file, psycopg on PostgreSQL (no SQLAlchemy)."""
    if url.startswith("postgresql"):
        import psycopg

        return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    return sqlite3.connect(url.removeprefix("sqlite:///"))


def placeholders(url: str, statement: str) -> str:
    """`?` for sqlite3, `%s` for psycopg."""
    return statement.replace("?", "%s") if url.startswith("postgresql") else statement


def floor(scratch: str, project_id: int) -> dict:
    """Raw SQL: read the company list, executemany its rows into the project; the codes the
    project has already stay as they are (as a refresh leaves them)."""
    url = scratch if scratch.startswith("postgresql") else f"sqlite:///{scratch}"
    connection = raw_connection(url)
    started = time.perf_counter()
    cursor = connection.cursor()
    cursor.execute(placeholders(url, "SELECT company_id FROM projects WHERE id = ?"), (project_id,))
    company_id = cursor.fetchone()[0]
    cursor.execute(
        placeholders(
            url,
            "SELECT id, code, description, division FROM standard_cost_codes WHERE company_id = ? "
            "AND active AND NOT archived",
        ),
        (company_id,),
    )
    rows = cursor.fetchall()
    cursor.executemany(
        placeholders(
            url,
            "INSERT INTO project_cost_codes (project_id, standard_cost_code_id, code, description, division, "
            "active, origin, not_in_company_list, created_at) "
            "VALUES (?, ?, ?, ?, ?, true, 'company', false, CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING",
        ),
        [(project_id, *row) for row in rows],
    )
    connection.commit()
    seconds = time.perf_counter() - started
    connection.close()
    return {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "codes": len(rows)}


def _seed_reference_erp(app, company) -> object:
    """The reference ERP as the bench company's ERP (a Sage 100 Contractor company): its
    divisions, its list, every job, in Sage's own tables."""
    from portal.erp import reference, sage100_database
    from portal.extensions import db
    from portal.models import Project, StandardCostCode

    erp = reference.ReferenceErp(app.config["ERP_DATABASE_URL"])
    erp.ensure_company(company.slug, company.erp_system)
    codes = db.session.execute(
        select(StandardCostCode.code, StandardCostCode.description, StandardCostCode.division).where(
            StandardCostCode.company_id == company.id
        )
    ).all()
    with erp.connector(company.slug)._engine.begin() as connection:
        connection.execute(sage100_database.cstcde.delete())
        connection.execute(sage100_database.cstdiv.delete())
        connection.execute(
            insert(sage100_database.cstdiv),
            [{"recnum": int(d), "divnme": f"Division {d}"} for d in sorted({d for _, _, d in codes})],
        )
        connection.execute(
            insert(sage100_database.cstcde),
            [
                {"recnum": sage100_database.code_number(code), "cdenme": description, "divnum": int(division)}
                for code, description, division in codes
            ],
        )
        existing = set(connection.scalars(select(sage100_database.actrec.c.recnum)))
        rows = [
            {"recnum": int(number), "jobnme": name[:50], "status": 4}
            for number, name in db.session.execute(
                select(Project.erp_job_number, Project.name).where(Project.company_id == company.id)
            )
            if int(number) not in existing
        ]
        if rows:
            connection.execute(insert(sage100_database.actrec), rows)
    return erp


# Waiting requests the export leaves for the approval -> ERP figure and the mixed load.
KEEP_WAITING = 25


def export(url: str, actor_id: int, scratch: str) -> dict:
    from portal.erp import reference, sage100_database
    from portal.erp.connectors import connector_for
    from portal.extensions import db
    from portal.models import Company, CostCodeUpdateRequest, UpdateRequestLine, User, utcnow
    from portal.services.approvals import approve_requested_updates
    from portal.services.sync import CompanySync, start_run

    app = _app(url)
    with app.app_context():
        actor = db.session.get(User, actor_id)
        company = db.session.get(Company, actor.company_id)
        company.requester_may_not_approve = False
        db.session.commit()
        target = 10_000 if os.environ.get("BENCH_QUICK") != "1" else 2_000
        approved = 0
        waiting = db.session.execute(
            select(CostCodeUpdateRequest.id, db.func.count(UpdateRequestLine.id))
            .join(UpdateRequestLine)
            .where(CostCodeUpdateRequest.status == "requested")
            .group_by(CostCodeUpdateRequest.id)
            .having(db.func.count(UpdateRequestLine.id) < 2000)
            .order_by(CostCodeUpdateRequest.id)
        ).all()
        # The figures after this one approve waiting requests of their own (approval -> ERP
        # one, the mixed load 20, from the newest): leave them waiting.
        for request_id, size in waiting[: max(0, len(waiting) - KEEP_WAITING)]:
            if approved >= target:
                break
            approve_requested_updates(db.session, request_id, actor, company_id=company.id)
            approved += size
        erp = _seed_reference_erp(app, company)
        lines = [
            tuple(row)
            for row in db.session.execute(
                select(
                    CostCodeUpdateRequest.project_id,
                    UpdateRequestLine.code,
                    UpdateRequestLine.description,
                    UpdateRequestLine.division,
                    UpdateRequestLine.cost_type_code,
                )
                .join(CostCodeUpdateRequest)
                .where(CostCodeUpdateRequest.status == "approved")
            )
        ]
        connector = connector_for(company, app.config)
        # Only the export step is timed: a whole run also pulls the company list from the ERP.
        run = start_run(db.session, company.id, trigger="manual", actor=actor, now=utcnow())
        sync = CompanySync(db.session, run, connector, actor, utcnow)
        # The floor's databases as they are before the export (bench/replay.py).
        erp_path = reference.company_url(app.config["ERP_DATABASE_URL"], company.slug).removeprefix("sqlite:///")
        floor_erp = f"{scratch}-erp.sqlite"
        _copy_sqlite(erp_path, floor_erp)
        floor_portal = url
        if url.startswith("sqlite"):
            db.session.commit()
            floor_portal = f"sqlite:///{scratch}-portal.sqlite"
            _copy_sqlite(url.removeprefix("sqlite:///"), floor_portal.removeprefix("sqlite:///"))
        names = {str(db.engine.url): "portal", f"sqlite:///{erp_path}": "erp"}
        with replay.recording(names) as steps:
            started = time.perf_counter()
            if os.environ.get("BENCH_PROFILE"):
                import cProfile

                cProfile.runctx(
                    "sync.export_cost_code_requests()", globals(), locals(), os.environ["BENCH_PROFILE"]
                )
            else:
                sync.export_cost_code_requests()
            seconds = time.perf_counter() - started
        sync.finish()
        # A Sage 100 Contractor budget line per job and code (its cost types are the portal's).
        with erp.connector(company.slug)._engine.connect() as connection:
            in_erp = connection.scalar(select(db.func.count()).select_from(sage100_database.bdglin))
        erp_rows = _erp_rows(erp_path)
        db.session.remove()
        db.engine.dispose()

    if not any(name == "erp" for name, *_ in steps):
        raise RuntimeError(f"no statement to the ERP was recorded (looked for {sorted(names)})")
    connections = {"portal": replay.open_portal(floor_portal), "erp": replay.open_erp(floor_erp)}
    try:
        floor_seconds = replay.replay(steps, connections)
    finally:
        for connection in connections.values():
            connection.close()
    return {
        "seconds": seconds,
        "floor_seconds": floor_seconds,
        "lines": len(lines),
        "in_erp": in_erp,
        "erp_rows_before": erp_rows,
        "statements": sum(1 for _, statement, *_ in steps if isinstance(statement, str)),
        "peak_rss_mb": peak_rss_mb(),
    }


def _copy_sqlite(source: str, target: str) -> None:
    """The backup API, not a file copy: the live file may have frames in its WAL."""
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    live.close()
    copy.close()


def _erp_rows(path: str) -> int:
    """Every row of the ERP company's tables: what the export's inserts check their keys against."""
    with sqlite3.connect(path) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return sum(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for (name,) in tables)


def approval_to_erp(url: str, actor_id: int) -> dict:
    """Update clicked -> Sync Now clicked -> the code is on the ERP job, through the web app."""
    from flask import url_for
    from flask.sessions import SecureCookieSessionInterface
    from itsdangerous import URLSafeTimedSerializer

    from portal.auth.session import SESSION_TOKEN
    from portal.erp import reference
    from portal.extensions import db
    from portal.models import Company, CostCodeUpdateRequest, Project, UpdateRequestLine, User
    from portal.services.login import open_session

    app = _app(url)
    with app.app_context():
        actor = db.session.get(User, actor_id)
        company = db.session.get(Company, actor.company_id)
        company.requester_may_not_approve = False
        db.session.commit()
        _seed_reference_erp(app, company)
        request = db.session.scalar(
            select(CostCodeUpdateRequest)
            .where(CostCodeUpdateRequest.status == "requested")
            .order_by(CostCodeUpdateRequest.id.desc())
            .offset(1)
            .limit(1)
        )
        line = db.session.scalar(
            select(UpdateRequestLine).where(UpdateRequestLine.request_id == request.id).limit(1)
        )
        job = db.session.get(Project, request.project_id).erp_job_number
        raw_token = "bench-csrf-token"
        session = {
            "_user_id": actor.get_id(),
            SESSION_TOKEN: open_session(db.session, user_id=actor.id),
            "_fresh": True,
            "login_at": time.time(),
            "csrf_token": raw_token,
        }
        client = app.test_client()
        client.set_cookie(
            "session", SecureCookieSessionInterface().get_signing_serializer(app).dumps(session)
        )
        token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw_token)
        with app.test_request_context():
            approve_url = url_for("erp_integrations.approve_request", request_id=request.id)
            sync_url = url_for("erp_integrations.sync_now")
        erp = reference.ReferenceErp(app.config["ERP_DATABASE_URL"])
        started = time.perf_counter()
        approved = client.post(approve_url, data={"csrf_token": token}, headers={"HX-Request": "true"})
        synced = client.post(
            sync_url, data={"csrf_token": token, "company": company.slug}, headers={"HX-Request": "true"}
        )
        present = False
        while time.perf_counter() - started < 60 and not present:
            present = any(code == line.code for code, _, _ in erp.list_job_codes(company.slug, job))
            if not present:
                time.sleep(0.05)
        seconds = time.perf_counter() - started
        return {
            "seconds": seconds,
            "present": present,
            "approve_status": approved.status_code,
            "sync_status": synced.status_code,
        }


def main() -> None:
    what, url, project_id, actor_id, scratch = sys.argv[1:6]
    if what == "refresh":
        result = refresh(url, int(project_id), int(actor_id))
    elif what == "floor":
        result = floor(scratch, int(project_id))
    elif what == "export":
        result = export(url, int(actor_id), scratch)
    elif what == "approval-to-erp":
        result = approval_to_erp(url, int(actor_id))
    else:
        raise SystemExit(f"unknown probe {what}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
