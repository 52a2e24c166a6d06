"""The reference ERP's Sage 300 CRE companies: the tables the ODBC reader reads, and the writes
the demo needs.

Reading goes through `Sage300OdbcConnector`, the same SQL a customer's Timberline data answers.
Writing is the REFERENCE ERP'S OWN BEHAVIOUR, not Sage's: for the demo's loop (approve, export,
see the code on the job) it adds approved codes to JCM_MASTER__COST_CODE and JCM_MASTER__CATEGORY
and creates jobs in JCM_MASTER__JOB. Sage 300 CRE documents no such way in (see sage300_odbc).
Column types and keys here are the reference ERP's choices (wide enough for anything `formats` lets
through, which is where the published limits are checked); the names are the published ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from portal.erp import formats
from portal.erp.base import FORMAT_ERRORS, NO_SUCH_JOB, ErpJob, ExportLine, LineResult, export_line_validator
from portal.erp.sage300_odbc import COST_CODE_FIELD, SAGE, Sage300OdbcConnector, engine_query, no_such_job

REFERENCE_EXPORT_NOTE = (
    "This company uses the embedded reference ERP, which adds approved codes to the job itself for "
    f"the demo. {SAGE} takes no cost codes from outside: with a real {SAGE} company the accountant "
    "adds them in Job Cost (or with Import Estimate)."
)

metadata = sa.MetaData()
ts_ctl_record_3 = sa.Table(
    "ts_ctl_record_3",
    metadata,
    sa.Column("fldcode", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("section", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("cslen", sa.Integer, nullable=False),
    sa.Column("cndesc", sa.String(30)),
    sa.Column("cnpunct", sa.String(1)),
)
standard_cost_codes = sa.Table(
    "jcm_master__standard_cost_code",
    metadata,
    sa.Column("cost_code", sa.String(40), primary_key=True),
    sa.Column("description", sa.String(100), nullable=False),
)
standard_categories = sa.Table(
    "jcm_master__standard_category",
    metadata,
    sa.Column("category", sa.String(3), primary_key=True),
    sa.Column("description", sa.String(100), nullable=False),
)
jobs = sa.Table(
    "jcm_master__job",
    metadata,
    sa.Column("job", sa.String(40), primary_key=True),
    sa.Column("description", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20)),
)
job_cost_codes = sa.Table(
    "jcm_master__cost_code",
    metadata,
    sa.Column("job", sa.String(40), primary_key=True),
    sa.Column("extra", sa.String(10), primary_key=True, default=""),
    sa.Column("cost_code", sa.String(40), primary_key=True),
    sa.Column("description", sa.String(100), nullable=False),
)
job_categories = sa.Table(
    "jcm_master__category",
    metadata,
    sa.Column("job", sa.String(40), primary_key=True),
    sa.Column("extra", sa.String(10), primary_key=True, default=""),
    sa.Column("cost_code", sa.String(40), primary_key=True),
    sa.Column("category", sa.String(3), primary_key=True),
)


class ReferenceSage300Connector(Sage300OdbcConnector):
    """A reference ERP Sage 300 CRE company: read as Sage is read, written as only the reference
    ERP is."""

    def __init__(self, engine: sa.Engine, commitments=None, mask: formats.CostCodeMask | None = None):
        super().__init__(engine_query(engine))
        self._engine = engine
        self.commitments = commitments
        # The company's cost code mask, which every exported code must fit; when the portal
        # does not know it yet, the mask this ERP holds (as Sage 300 CRE itself would refuse).
        self.mask = mask

    def export_commitment(self, job_number: str, commitment):
        if self.commitments is None:
            return super().export_commitment(job_number, commitment)
        return self.commitments(self.has_job(job_number), job_number, commitment)

    def dispose(self) -> None:
        self._engine.dispose()

    def export_note(self) -> str | None:
        return REFERENCE_EXPORT_NOTE

    def set_mask(self, sections: Sequence[tuple[int, str]]) -> None:
        with self._engine.begin() as conn:
            conn.execute(ts_ctl_record_3.delete().where(ts_ctl_record_3.c.fldcode == COST_CODE_FIELD))
            conn.execute(
                ts_ctl_record_3.insert(),
                [
                    {"fldcode": COST_CODE_FIELD, "section": n, "cslen": length, "cnpunct": punct}
                    for n, (length, punct) in enumerate(sections, 1)
                ],
            )

    def put_category(self, code: str, name: str) -> None:
        _upsert(self._engine, standard_categories, {"category": code}, {"description": name})

    def put_standard_code(self, code: str, description: str) -> None:
        _upsert(self._engine, standard_cost_codes, {"cost_code": code}, {"description": description})

    def create_job(self, number: str, name: str) -> ErpJob:
        number = formats.validate_job_number(number, formats.SAGE300)
        with self._engine.begin() as conn:
            existing = conn.scalar(sa.select(jobs.c.description).where(jobs.c.job == number))
            if existing is not None:
                return ErpJob(number, existing)
            name = (name or "").strip() or number
            conn.execute(jobs.insert().values(job=number, description=name, status="Unstarted"))
        return ErpJob(number, name)

    def export_cost_code_lines(self, job_number: str, lines: list[ExportLine]) -> list[LineResult]:
        return self.export_job_cost_codes({job_number: lines})[job_number]

    def export_job_cost_codes(
        self, lines_by_job: Mapping[str, Sequence[ExportLine]]
    ) -> dict[str, list[LineResult]]:
        try:
            return self._export(lines_by_job)
        except sa.exc.IntegrityError:
            # Two syncs racing can both see a code as new; the second pass finds it.
            return self._export(lines_by_job)

    def _export(self, lines_by_job: Mapping[str, Sequence[ExportLine]]) -> dict[str, list[LineResult]]:
        mask = self.mask or formats.parse_mask(self.fetch_cost_code_mask())
        validate = export_line_validator(formats.SAGE300, mask)
        with self._engine.begin() as conn:
            categories = set(conn.scalars(sa.select(standard_categories.c.category)))
            known_jobs = set(conn.scalars(sa.select(jobs.c.job).where(jobs.c.job.in_(list(lines_by_job)))))
            where = job_cost_codes.c.job.in_(list(known_jobs))
            descriptions = {
                (j, c): d
                for j, c, d in conn.execute(
                    sa.select(
                        job_cost_codes.c.job, job_cost_codes.c.cost_code, job_cost_codes.c.description
                    ).where(where)
                )
            }
            types = {
                tuple(row)
                for row in conn.execute(
                    sa.select(
                        job_categories.c.job, job_categories.c.cost_code, job_categories.c.category
                    ).where(job_categories.c.job.in_(list(known_jobs)))
                )
            }
            new_codes, new_types, results = [], [], {}
            for job, lines in lines_by_job.items():
                job_results = results[job] = []
                for line in lines:
                    if job not in known_jobs:
                        missing = LineResult(line.code, line.cost_type, NO_SUCH_JOB, no_such_job(job))
                        job_results.append(missing)
                        continue
                    try:
                        code, description, category, _division = validate(line)
                    except FORMAT_ERRORS as error:
                        job_results.append(LineResult(line.code, line.cost_type, "failed", str(error)))
                        continue
                    if category not in categories:
                        job_results.append(
                            LineResult(
                                code,
                                category,
                                "failed",
                                (f'Cost type "{category}" does not exist in {SAGE}; add it there first.'),
                            )
                        )
                        continue
                    has_type = (job, code, category) in types
                    if not has_type:
                        types.add((job, code, category))
                        new_types.append({"job": job, "extra": "", "cost_code": code, "category": category})
                    erp_description = descriptions.get((job, code))
                    if erp_description is None:
                        descriptions[job, code] = description
                        new_codes.append(
                            {"job": job, "extra": "", "cost_code": code, "description": description}
                        )
                        job_results.append(LineResult(code, category, "created", ""))
                    elif erp_description != description:
                        # The ERP's text wins: an export never overwrites an existing code's description.
                        message = f'Kept the ERP description "{erp_description}" (portal had "{description}")'
                        message += f"; added cost type {category}." if not has_type else "."
                        job_results.append(LineResult(code, category, "description_kept", message))
                    elif not has_type:
                        job_results.append(
                            LineResult(code, category, "merged_cost_type", f"Added cost type {category}.")
                        )
                    else:
                        job_results.append(LineResult(code, category, "unchanged", "Already on the job."))
            if new_codes:
                conn.execute(job_cost_codes.insert(), new_codes)
            if new_types:
                conn.execute(job_categories.insert(), new_types)
            return results


def _upsert(engine: sa.Engine, table: sa.Table, key: dict, values: dict) -> None:
    with engine.begin() as conn:
        where = [table.c[name] == value for name, value in key.items()]
        if conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)):
            conn.execute(table.update().where(*where).values(**values))
        else:
            conn.execute(table.insert().values(**key, **values))
