"""The comparison of projects with their ERP jobs (issue 18) for the generated company, beside
a raw-SQL floor of the same comparison.

Ours: `compare_company` as a sync runs it: the ERP jobs' codes stored as the snapshot, then the
four kinds of difference computed by SQL and stored. The ERP's answer is made before the clock
starts (reading a customer's Sage is the ERP's time, not the portal's): every linked job holds
its project's codes with their cost types, and some jobs differ (one code fewer, one code more, a
description, a cost type), so that every kind of difference is found. Cost types are given for
every code, so the cost-type comparison does its whole work (a Sage 100 Contractor job gives
none, which is cheaper).

Floor: the same work on raw sqlite3: the same rows into a snapshot table (executemany), then one
hand-written INSERT … SELECT per kind into a differences table, in one transaction. On
PostgreSQL the same on raw psycopg, the snapshot written with COPY and analysed, as ours.

Run alone with `python -m bench.differences [--quick] [--db postgresql]`.
"""
from __future__ import annotations

import sqlite3
import time
from collections import defaultdict

MISSING_IN_ERP = 10  # every 10th job lacks its project's first code
MISSING_IN_PROJECT = 11  # every 11th job has a code its project lacks
DESCRIPTION = 7  # every 7th job words its second code differently
COST_TYPE = 5  # every 5th job has one more cost type on its third code

FLOOR_SQL = """
INSERT INTO floor_differences (project_id, job_number, kind, code, project_description, erp_description,
                               erp_cost_types)
SELECT p.id, p.erp_job_number, 'missing_in_erp', c.code, c.description, NULL, NULL
FROM projects p JOIN floor_reads r ON r.job_number = p.erp_job_number AND r.problem IS NULL
JOIN project_cost_codes c ON c.project_id = p.id AND c.active
WHERE p.company_id = :company AND p.erp_link_state = 'linked' AND NOT p.archived
  AND NOT EXISTS (SELECT 1 FROM floor_job_codes e WHERE e.job_number = p.erp_job_number AND e.code = c.code)
  AND NOT EXISTS (SELECT 1 FROM cost_type_assignments a WHERE a.project_cost_code_id = c.id
                  AND a.erp_state IN ('requested', 'approved'))
UNION ALL
SELECT p.id, p.erp_job_number, 'missing_in_project', e.code, NULL, e.description, e.cost_types
FROM projects p JOIN floor_reads r ON r.job_number = p.erp_job_number AND r.problem IS NULL
JOIN floor_job_codes e ON e.job_number = p.erp_job_number
WHERE p.company_id = :company AND p.erp_link_state = 'linked' AND NOT p.archived
  AND NOT EXISTS (SELECT 1 FROM project_cost_codes c WHERE c.project_id = p.id AND c.code = e.code)
UNION ALL
SELECT p.id, p.erp_job_number, 'description', c.code, c.description, e.description, NULL
FROM projects p JOIN floor_reads r ON r.job_number = p.erp_job_number AND r.problem IS NULL
JOIN project_cost_codes c ON c.project_id = p.id
JOIN floor_job_codes e ON e.job_number = p.erp_job_number AND e.code = c.code
WHERE p.company_id = :company AND p.erp_link_state = 'linked' AND NOT p.archived
  AND trim(c.description) != trim(e.description)
UNION ALL
SELECT p.id, p.erp_job_number, 'cost_types', c.code, c.description, e.description, e.cost_types
FROM projects p JOIN floor_reads r ON r.job_number = p.erp_job_number AND r.problem IS NULL
JOIN project_cost_codes c ON c.project_id = p.id
JOIN floor_job_codes e ON e.job_number = p.erp_job_number AND e.code = c.code
WHERE p.company_id = :company AND p.erp_link_state = 'linked' AND NOT p.archived
  AND e.cost_types IS NOT NULL
  AND ((SELECT count(*) FROM cost_type_assignments a JOIN cost_types t ON t.id = a.cost_type_id
        WHERE a.project_cost_code_id = c.id AND a.erp_state NOT IN ('requested', 'approved')
          AND ',' || e.cost_types || ',' NOT LIKE '%,' || t.code || ',%') > 0
    OR (SELECT count(*) FROM cost_type_assignments a JOIN cost_types t ON t.id = a.cost_type_id
        WHERE a.project_cost_code_id = c.id AND ',' || e.cost_types || ',' LIKE '%,' || t.code || ',%')
       < CASE WHEN e.cost_types = '' THEN 0
              ELSE length(e.cost_types) - length(replace(e.cost_types, ',', '')) + 1 END)
"""


class AnsweringErp:
    """The ERP's answer, made in advance: {job: [ErpJobCostCode]}."""

    def __init__(self, answers):
        self.answers = answers

    def fetch_job_cost_codes(self, job_numbers):
        return {job: self.answers.get(job, []) for job in job_numbers}

    def job_codes_unreadable(self) -> str:  # pragma: no cover (it reads)
        return ""


def erp_answers(session, company_id: int) -> dict:
    """Each linked job's codes: its project's, with the planted differences."""
    from sqlalchemy import select

    from portal.erp.base import ErpJobCostCode
    from portal.models import CostType, CostTypeAssignment, Project, ProjectCostCode
    from portal.services.erp_differences.compare import linked_job_numbers

    rows = session.execute(
        select(Project.erp_job_number, ProjectCostCode.code, ProjectCostCode.description, CostType.code)
        .join(ProjectCostCode, ProjectCostCode.project_id == Project.id)  # every code, typed or not
        .join(CostTypeAssignment, CostTypeAssignment.project_cost_code_id == ProjectCostCode.id, isouter=True)
        .join(CostType, CostType.id == CostTypeAssignment.cost_type_id, isouter=True)
        .where(Project.company_id == company_id, Project.erp_link_state == "linked",
               Project.archived.is_(False))
        .order_by(Project.erp_job_number, ProjectCostCode.code)
    )
    jobs: dict[str, dict[str, tuple[str, set[str]]]] = defaultdict(dict)
    for job, code, description, type_code in rows:
        types = jobs[job].setdefault(code, (description, set()))[1]
        if type_code is not None:
            types.add(type_code)
    for job in linked_job_numbers(session, company_id):
        jobs.setdefault(job, {})  # a linked job whose project has no code yet
    answers = {}
    for n, (job, codes) in enumerate(sorted(jobs.items())):
        listed = [[code, description, sorted(types)] for code, (description, types) in codes.items()]
        if n % MISSING_IN_ERP == 0 and listed:
            listed = listed[1:]
        if n % DESCRIPTION == 0 and len(listed) > 1:
            listed[1][1] = listed[1][1] + " (ERP wording)"
        if n % COST_TYPE == 0 and len(listed) > 2:
            listed[2][2] = sorted({*listed[2][2], "9"})
        if n % MISSING_IN_PROJECT == 0:
            listed.append(["999999.000", "ERP only", ["1"]])
        answers[job] = [ErpJobCostCode(code, text, tuple(types)) for code, text, types in listed]
    return answers


def floor_seconds(sqlite_path: str, company_id: int, answers: dict) -> tuple[float, int]:
    """The same comparison on raw sqlite3; (seconds, differences found)."""
    with sqlite3.connect(sqlite_path) as connection:
        connection.executescript(
            "CREATE TEMP TABLE IF NOT EXISTS floor_job_codes (id INTEGER PRIMARY KEY, job_number TEXT, "
            "code TEXT, description TEXT, cost_types TEXT, UNIQUE (job_number, code));"
            "CREATE TEMP TABLE IF NOT EXISTS floor_reads (job_number TEXT PRIMARY KEY, problem TEXT);"
            "CREATE TEMP TABLE IF NOT EXISTS floor_differences (id INTEGER PRIMARY KEY, project_id INT, "
            "job_number TEXT, kind TEXT, code TEXT, project_description TEXT, erp_description TEXT, "
            "erp_cost_types TEXT);"
        )
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        for table in ("floor_job_codes", "floor_reads", "floor_differences"):
            connection.execute(f"DELETE FROM {table}")  # noqa: S608 (the names above)
        connection.executemany("INSERT INTO floor_reads VALUES (?, NULL)", [(job,) for job in answers])
        connection.executemany(
            "INSERT INTO floor_job_codes (job_number, code, description, cost_types) VALUES (?, ?, ?, ?)",
            [
                (job, c.code, c.description, ",".join(c.cost_types))
                for job, codes in answers.items()
                for c in codes
            ],
        )
        connection.execute(FLOOR_SQL, {"company": company_id})
        found = connection.execute("SELECT count(*) FROM floor_differences").fetchone()[0]
        connection.commit()
        return time.perf_counter() - started, found


# The floor's tables on PostgreSQL, as the SQLite floor's; the snapshot written with COPY and
# analysed before the comparison, as ours (portal/services/erp_differences/compare.py).
PG_FLOOR_TABLES = (
    "CREATE TEMP TABLE IF NOT EXISTS floor_job_codes (id bigserial PRIMARY KEY, job_number text, "
    "code text, description text, cost_types text, UNIQUE (job_number, code))",
    "CREATE TEMP TABLE IF NOT EXISTS floor_reads (job_number text PRIMARY KEY, problem text)",
    "CREATE TEMP TABLE IF NOT EXISTS floor_differences (id bigserial PRIMARY KEY, project_id int, "
    "job_number text, kind text, code text, project_description text, erp_description text, "
    "erp_cost_types text)",
)
PG_COPY_JOB_CODES = "COPY floor_job_codes (job_number, code, description, cost_types) FROM STDIN"
PG_FLOOR_SQL = FLOOR_SQL.replace("%", "%%").replace(":company", "%(company)s")


def floor_seconds_postgresql(url: str, company_id: int, answers: dict) -> tuple[float, int]:
    """The same comparison on raw psycopg; (seconds, differences found)."""
    from bench.probe import raw_connection

    with raw_connection(url) as connection:
        for statement in PG_FLOOR_TABLES:
            connection.execute(statement)
        connection.commit()
        started = time.perf_counter()
        with connection.transaction(), connection.cursor() as cursor:
            for table in ("floor_job_codes", "floor_reads", "floor_differences"):
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (the names above)
            with cursor.copy("COPY floor_reads (job_number) FROM STDIN") as copy:
                for job in answers:
                    copy.write_row((job,))
            with cursor.copy(PG_COPY_JOB_CODES) as copy:
                for job, codes in answers.items():
                    for c in codes:
                        copy.write_row((job, c.code, c.description, ",".join(c.cost_types)))
            cursor.execute("ANALYZE floor_job_codes, floor_reads")
            cursor.execute(PG_FLOOR_SQL, {"company": company_id})
            found = cursor.execute("SELECT count(*) FROM floor_differences").fetchone()[0]
        return time.perf_counter() - started, found


def differences(bench) -> None:
    """One figure: the comparison of every linked project with its ERP job."""
    from bench.harness import Row
    from portal.extensions import db
    from portal.models import ErpDifference
    from portal.services.erp_differences.compare import compare_company, difference_count

    repeat = 3
    with bench.app.app_context():
        answers = erp_answers(db.session, bench.ids.company_id)
        erp = AnsweringErp(answers)
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            compare_company(db.session, bench.ids.company_id, erp)
            samples.append(time.perf_counter() - started)
        ours = sorted(samples)[len(samples) // 2]
        found = difference_count(db.session, bench.ids.company_id)
        kinds = dict(db.session.execute(
            db.select(ErpDifference.kind, db.func.count()).group_by(ErpDifference.kind)
        ).all())
        db.session.remove()
    codes = sum(len(codes) for codes in answers.values())
    # The floor database is generated alike (same seed), so the same answer fits its company.
    if bench.db == "postgresql":
        floor_run, database = floor_seconds_postgresql, bench.url
    else:
        floor_run, database = floor_seconds, str(bench.sqlite_path)
    floors = [floor_run(database, bench.floor_ids.company_id, answers) for _ in range(repeat)]
    floor, floor_found = sorted(floors)[len(floors) // 2]
    if found != floor_found:
        raise RuntimeError(f"the comparison found {found} differences, the floor {floor_found}")
    bench.add(
        Row(
            f"Differences with ERP: {len(answers)} ERP jobs, {codes} job codes compared (median of {repeat})",
            ours * 1000,
            floor * 1000,
            "ms",
            "time",
            "<= 3x floor",
            ours <= 3 * floor,
            f"{found} differences: " + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())),
        )
    )


def main() -> int:
    import argparse

    from bench.harness import Bench

    parser = argparse.ArgumentParser(prog="python -m bench.differences", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    bench = Bench(args.quick, args.db)
    try:
        bench.build()
        differences(bench)
    finally:
        bench.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
