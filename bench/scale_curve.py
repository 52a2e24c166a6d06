"""Scale curve: how cost grows with size.

The Jobs tab (Ready to Update, a page of 50, in-process median) at 1k, 10k and 100k projects,
one in 20 of them waiting under Ready to Update: a paged page should cost about the same at any
size. Refresh Cost Codes of an empty project from 2k, 20k and 200k company codes: it should
grow linearly, i.e. cost the same per code. The points go to bench-results/scale-curve.png
(bench/chart.py) and two rows of the table compare the largest point with the smallest.
"""

from __future__ import annotations

import time

from bench import generate_bulk
from bench.scratch import portal_app, twin_databases

PROJECTS = {False: (1_000, 10_000, 100_000), True: (1_000, 3_000, 10_000)}
CODES = {False: (2_000, 20_000, 200_000), True: (1_000, 4_000, 16_000)}
REQUEST_EVERY = 20
JOBS_URL = "/erp-integrations/jobs?filter=ready_to_update"


def run(bench) -> None:
    from bench.chart import scale_chart
    from bench.harness import Row

    jobs = _jobs_tab_curve(bench)
    refresh = _refresh_curve(bench)
    path = scale_chart(jobs, refresh, bench.quick, bench.db)
    (small_n, small_ms), (big_n, big_ms) = jobs[0], jobs[-1]
    bench.add(
        Row(
            f"Scale: Jobs tab page of 50 at {big_n:,} projects (floor: at {small_n:,})",
            big_ms, small_ms, "ms", "time", "<= 1.5x (flat)", big_ms <= 1.5 * small_ms,
            "; ".join(f"{n:,}: {ms:.1f} ms" for n, ms in jobs) + f"; chart {path.name}",
        )
    )
    (small_n, small_ms), (big_n, big_ms) = refresh[0], refresh[-1]
    per_small, per_big = small_ms / small_n * 1000, big_ms / big_n * 1000
    bench.add(
        Row(
            f"Scale: refresh per 1,000 codes at {big_n:,} codes (floor: at {small_n:,})",
            per_big, per_small, "ms", "time", "<= 1.5x (linear)", per_big <= 1.5 * per_small,
            "; ".join(f"{n:,}: {ms:.0f} ms" for n, ms in refresh),
        )
    )


def _median_ms(client, url: str, repeat: int) -> float:
    from bench.harness import median_ms

    return median_ms(lambda: client.get(url), repeat)


def _jobs_tab_curve(bench) -> list[tuple[int, float]]:
    from bench.session import USER_AGENT, signed_session
    from portal.extensions import db
    from portal.models import User

    sizes = PROJECTS[bench.quick]

    def build(session):
        made = generate_bulk.company(session, "scale-jobs")
        generate_bulk.projects(session, made.company_id, sizes[0])
        generate_bulk.open_requests(session, made.company_id, made.pm_id, REQUEST_EVERY)
        return made

    points = []
    with twin_databases(bench, "scale-jobs", build) as twin:
        app = portal_app(bench, twin.url)
        made, grown = twin.built, sizes[0]
        for size in sizes:
            with app.app_context():
                if size > grown:
                    started = time.perf_counter()
                    generate_bulk.projects(db.session, made.company_id, size - grown, first=grown)
                    generate_bulk.open_requests(db.session, made.company_id, made.pm_id, REQUEST_EVERY)
                    db.session.commit()
                    if db.engine.dialect.name == "postgresql":
                        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                            c.exec_driver_sql("ANALYZE")
                    print(f"  grown to {size:,} projects in {time.perf_counter() - started:.1f}s", flush=True)
                    grown = size
                cookie = signed_session(app, db.session.get(User, made.admin_id), "bench-csrf-scale")
                db.session.remove()
            client = app.test_client()
            client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
            client.set_cookie("session", cookie)
            response = client.get(JOBS_URL)
            assert response.status_code == 200, response.status_code
            assert response.data.count(b"Scale project") >= 50, "the page shows no page of 50 requests"
            ms = _median_ms(client, JOBS_URL, 20 if bench.quick else 50)
            print(f"  Jobs tab at {size:,} projects: {ms:.1f} ms", flush=True)
            points.append((size, ms))
        with app.app_context():
            db.engine.dispose()
    return points


def _refresh_curve(bench) -> list[tuple[int, float]]:
    from portal.extensions import db
    from portal.models import Project, ProjectCostCode, User
    from portal.services.refresh import refresh_project_cost_codes, start_project_refresh

    sizes = CODES[bench.quick]

    def build(session):
        made = []
        for size in sizes:
            one = generate_bulk.company(session, f"scale-codes-{size}")
            generate_bulk.standard_codes(session, one.company_id, size)
            generate_bulk.projects(session, one.company_id, 2, refreshed=False)
            generate_bulk.project_admin(session, one.admin_id, one.company_id)
            made.append(one)
        return made

    points = []
    with twin_databases(bench, "scale-codes", build) as twin:
        app = portal_app(bench, twin.url)
        with app.app_context():
            for size, one in zip(sizes, twin.built, strict=True):
                first, second = db.session.scalars(
                    db.select(Project.id).where(Project.company_id == one.company_id).order_by(Project.id)
                ).all()
                actor = db.session.get(User, one.admin_id)
                # The first project warms the caches at this size; the second is measured.
                timings = []
                for project_id in (first, second):
                    started = time.perf_counter()
                    job = start_project_refresh(db.session, db.session.get(Project, project_id), actor)
                    job = refresh_project_cost_codes(db.session, job.id)
                    timings.append((time.perf_counter() - started) * 1000)
                    added = db.session.scalar(
                        db.select(db.func.count()).where(ProjectCostCode.project_id == project_id)
                    )
                    if job.status != "succeeded" or added != size:
                        raise RuntimeError(f"refresh from {size} codes: {job.status}, {added} codes")
                print(f"  refresh from {size:,} codes: {timings[1]:.0f} ms", flush=True)
                points.append((size, timings[1]))
            db.session.remove()
            db.engine.dispose()
    return points
