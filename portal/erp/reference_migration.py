"""The reference ERP's directory in the layout before issue 15 (its own invented tables
erp_cost_types, erp_standard_cost_codes, erp_jobs, erp_job_cost_codes, erp_job_cost_code_types):
detected on first use and copied into Sage's published tables. It is demo data, so the copy is
plain: every company, cost type, active code, job, job cost code line and commitment is replayed
through the reference ERP's own actions, and the warning says what was done.
"""
from __future__ import annotations

import logging

from portal.erp.base import ExportLine

log = logging.getLogger(__name__)

OLD_LAYOUT_TABLES = (
    "erp_cost_types",
    "erp_standard_cost_codes",
    "erp_jobs",
    "erp_job_cost_codes",
    "erp_job_cost_code_types",
)


def migrate_old_layout(erp) -> None:
    """Copy a directory in the old layout into Sage's tables and drop the old tables."""
    with erp._engine.connect() as conn:

        def rows(sql: str) -> list:
            return conn.exec_driver_sql(sql).all()

        old_companies = rows("SELECT key, erp_system FROM erp_companies")
        old_types = rows("SELECT company, code, name FROM erp_cost_types")
        old_codes = rows(
            "SELECT company, code, description, division FROM erp_standard_cost_codes WHERE active"
        )
        old_jobs = rows("SELECT company, number, name FROM erp_jobs")
        old_lines = rows(
            "SELECT t.company, t.job, t.code, c.description, c.division, t.cost_type "
            "FROM erp_job_cost_code_types t "
            "JOIN erp_job_cost_codes c ON c.company = t.company AND c.job = t.job AND c.code = t.code"
        )
        old_commitments = rows(
            "SELECT company, job, number, kind, title, amount_cents, parent FROM erp_commitments"
        )
        conn.commit()
    with erp._engine.begin() as conn:
        for table in (*reversed(OLD_LAYOUT_TABLES), "erp_commitments", "erp_companies"):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    _directory_tables(erp)
    erp._ready = True
    for key, erp_system in old_companies:
        erp.ensure_company(key, erp_system)
    for key, code, name in old_types:
        erp.add_cost_type(key, code, name)
    for key, code, description, division in old_codes:
        erp.add_standard_cost_code(key, code, description, division)
    for key, number, name in old_jobs:
        erp.add_job(key, number, name)
    by_job: dict[tuple[str, str], list] = {}
    for key, job, code, description, division, cost_type in old_lines:
        by_job.setdefault((key, job), []).append(ExportLine(code, description, cost_type, division))
    for (key, job), lines in by_job.items():
        erp.connector(key).export_cost_code_lines(job, lines)
    with erp._engine.begin() as conn:
        for row in old_commitments:
            conn.execute(
                _commitments_table().insert().values(
                    dict(
                        zip(
                            ("company", "job", "number", "kind", "title", "amount_cents", "parent"),
                            row,
                            strict=True,
                        )
                    )
                )
            )
    erp.migration_note = (
        f"The reference ERP database {erp.url} had the layout from before issue 15 (its own invented "
        f"tables). Its {len(old_companies)} companies, {len(old_codes)} cost codes, "
        f"{len(old_jobs)} jobs, "
        f"{len(old_lines)} job cost code lines and {len(old_commitments)} commitments were copied into "
        "Sage's published tables (one database per company beside it) and the old tables dropped."
    )
    log.warning(erp.migration_note)




def _directory_tables(erp) -> None:
    from portal.erp.reference import directory

    directory.create_all(erp._engine)


def _commitments_table():
    from portal.erp.reference import commitments

    return commitments
