"""The Sage 100 Contractor database connector: the company's SQL Server database, read (and,
when a Company Admin allows it, written) through SQLAlchemy.

The same class serves the embedded reference ERP, whose Sage 100 Contractor companies are
databases with these same tables on SQLite or PostgreSQL: only the URL differs
(`mssql+pymssql://login:password@server/CompanyDatabase` for a customer's Sage).

Sources for every table and column used here (Sage publishes no schema of its own):
- Table and column names: the "SMB.Tables" classes of a Sage 100 Contractor integrator (Syscon),
  github.com/vimalgupta1980/dotnetlibs, SysconCommon/SMBClasses/cstcde.cs, cstdiv.cs, csttyp.cs,
  actrec.cs, bdglin.cs, whose field labels are the Sage windows' own ("Cost Code#", "Division#",
  "Type Name", "Job#", "Line#"); the same names in SQL Server-era code (a T-SQL reporting loader
  reading `dbo.bdglin`, `dbo.cstcde`) and in EI Dynamics' import templates for versions 22.1+
  (eidynamics.com/Software/ProductInfo/S100CDIS/Sage100CostCodes and .../Sage100Budgets).
- Cost codes are Numeric(9,3) such as 2010.000 with a description of up to 50 (EI Dynamics);
  every code needs a division from the Cost Divisions list (Sage 100 Contractor help 19.2,
  "Importing cost divisions": "Cost Division is a required entry").
- Nine cost types, 1-5 preset and 6-9 named by the company in "Type Name" (help 24.1, "Setting up
  cost types").
- Issue 15 calls per-job codes "budget lines (job, cost code, cost type)"; the sources disagree on
  the cost type. A budget line (6-2 Budgets, table bdglin) is keyed by job, phase and line number
  and carries ONE AMOUNT COLUMN PER COST TYPE (matbdg, labbdg, eqpbdg, subbdg, othbdg,
  usrcs6..usrcs9); it has no cost type column. So a zero-amount line this connector adds records
  only "this job uses this cost code"; which cost types were approved is recorded by the portal
  (each approved line's export state on its cost code request and the project's cost type
  assignments), not by Sage.
- Job status 3 is "Contract: you won the contract but have not begun work" (help 19.7, "About job
  status"); actrec.status holding that number is an inference from its label "Job Status".

Writing: integrators (Agave, Siteline, Trimble App Xchange) ask for a SQL login in Sage's "API"
security group, the group of Sage's own Sage 100 Contractor API (Sage Estimating help 22.1, "About
the Sage 100 Contractor API"); none documents inserting rows into these tables, and Sage asks for
its Database Administration tool rather than SQL tools. Writing therefore stays off for a customer's
database until a Company Admin turns it on in ERP settings, and every refused line says what to do
in Sage instead. The reference ERP (ours) always writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from portal.db.bulk import IDS_PER_STATEMENT, slices
from portal.erp import formats
from portal.erp.base import (
    FORMAT_ERRORS,
    NO_SUCH_JOB,
    CommitmentExport,
    CommitmentResult,
    ErpConnector,
    ErpCostCode,
    ErpCostType,
    ErpDivision,
    ErpError,
    ErpJob,
    ErpJobCostCode,
    ExportLine,
    LineResult,
    export_line_validator,
)
from portal.erp.engines import database_error_text, erp_engine
from portal.erp.sage100_budget import BudgetLines
from portal.erp.sage100_tables import (  # noqa: F401 (the tables are this connector's public names)
    BUDGET_AMOUNT_COLUMNS,
    COST_TYPE_NAMES,
    NEW_JOB_STATUS,
    SAGE,
    WRITING_OFF,
    actrec,
    bdglin,
    code_number,
    code_text,
    cstcde,
    cstdiv,
    csttyp,
    job_number,
    metadata,
)

# One text for every refused line (the line names its code and job).
WRITING_OFF_LINE = (
    f"{WRITING_OFF}: add the code to the job in 6-2 Budgets in {SAGE}, or ask a Company Admin to "
    "allow writing in ERP settings."
)

# The reference ERP's own contracts ledger (job exists?, job, commitment) -> result: no Sage
# table for them was researched, so a customer's database gets none.
CommitmentLedger = Callable[[bool, str, CommitmentExport], CommitmentResult]


class Sage100DatabaseConnector(ErpConnector):
    """One Sage 100 Contractor company database."""

    def __init__(
        self,
        url: str,
        *,
        writes_enabled: bool = False,
        engine: sa.Engine | None = None,
        commitments: CommitmentLedger | None = None,
    ):
        self.url = url
        self.writes_enabled = writes_enabled
        self.commitments = commitments
        self._engine = engine if engine is not None else erp_engine(url)
        self._owns_engine = engine is None

    def dispose(self) -> None:
        if self._owns_engine:
            self._engine.dispose()

    def _begin(self):
        return _Transaction(self._engine)

    # -- reading -----------------------------------------------------------------------------

    def fetch_cost_types(self) -> list[ErpCostType]:
        with self._begin() as conn:
            rows = conn.execute(sa.select(csttyp.c.recnum, csttyp.c.typnme).order_by(csttyp.c.recnum))
            return [ErpCostType(str(number), (name or "").strip()) for number, name in rows]

    def fetch_divisions(self) -> list[ErpDivision]:
        with self._begin() as conn:
            rows = conn.execute(sa.select(cstdiv.c.recnum, cstdiv.c.divnme).order_by(cstdiv.c.recnum))
            return [ErpDivision(str(number), (name or "").strip()) for number, name in rows]

    def fetch_standard_cost_codes(self) -> list[ErpCostCode]:
        with self._begin() as conn:
            rows = conn.execute(
                sa.select(cstcde.c.recnum, cstcde.c.cdenme, cstcde.c.divnum).order_by(cstcde.c.recnum)
            )
            return [
                ErpCostCode(
                    code_text(number), (name or "").strip(), "" if division is None else str(division)
                )
                for number, name, division in rows
            ]

    def fetch_jobs(self) -> list[ErpJob]:
        with self._begin() as conn:
            rows = conn.execute(sa.select(actrec.c.recnum, actrec.c.jobnme).order_by(actrec.c.recnum))
            return [ErpJob(str(number), (name or "").strip()) for number, name in rows]

    def has_job(self, number: str) -> bool:
        job = job_number(number)
        with self._begin() as conn:
            return (
                job is not None
                and conn.scalar(sa.select(actrec.c.recnum).where(actrec.c.recnum == job)) is not None
            )

    def list_job_codes(self, number: str) -> list[tuple[str, str, list[str]]]:
        """(code, description, cost types with a non-zero amount) for each budget line's code."""
        job = job_number(number)
        if job is None or not self.has_job(number):
            raise ErpError(no_such_job(number))
        type_columns = [bdglin.c[name] for name in BUDGET_AMOUNT_COLUMNS[1:10]]
        with self._begin() as conn:
            rows = conn.execute(
                sa.select(bdglin.c.cstcde, cstcde.c.cdenme, *type_columns)
                .join(cstcde, cstcde.c.recnum == bdglin.c.cstcde, isouter=True)
                .where(bdglin.c.recnum == job)
                .order_by(bdglin.c.cstcde, bdglin.c.phsnum, bdglin.c.linnum)
            ).all()
        found: dict[str, tuple[str, list[str]]] = {}
        for code, description, *amounts in rows:
            text, types = code_text(code), [str(n) for n, amount in enumerate(amounts, 1) if amount]
            kept = found.setdefault(text, ((description or "").strip(), []))
            kept[1].extend(t for t in types if t not in kept[1])
        return [(code, description, types) for code, (description, types) in found.items()]

    def fetch_job_cost_codes(
        self, job_numbers: Sequence[str]
    ) -> dict[str, list[ErpJobCostCode] | ErpError]:
        """Each job's budget line codes with the code's description (cstcde.cdenme). A budget
        line keeps no cost type (see the module docstring): the cost types are None, never a
        guess from which amounts are non-zero. Read in slices of jobs, all in one transaction."""
        answers: dict[str, list[ErpJobCostCode] | ErpError] = {}
        numbers: dict[int, str] = {}
        for text in job_numbers:
            number = job_number(text)
            if number is None:
                answers[text] = ErpError(no_such_job(text))
            else:
                numbers[number] = text
        jobs: set[int] = set()
        codes: dict[int, dict[str, str]] = {}
        with self._begin() as conn:
            for some in slices(sorted(numbers), IDS_PER_STATEMENT):
                jobs.update(conn.scalars(sa.select(actrec.c.recnum).where(actrec.c.recnum.in_(some))))
                rows = conn.execute(
                    sa.select(bdglin.c.recnum, bdglin.c.cstcde, cstcde.c.cdenme)
                    .join(cstcde, cstcde.c.recnum == bdglin.c.cstcde, isouter=True)
                    .where(bdglin.c.recnum.in_(some))
                )
                for job, code, description in rows:
                    codes.setdefault(job, {}).setdefault(code_text(code), (description or "").strip())
        for number, text in numbers.items():
            answers[text] = (
                [ErpJobCostCode(code, text_, None) for code, text_ in codes.get(number, {}).items()]
                if number in jobs
                else ErpError(no_such_job(text))
            )
        return answers

    # -- writing -----------------------------------------------------------------------------

    def create_job(self, number: str, name: str) -> ErpJob:
        number = formats.validate_job_number(number, formats.SAGE100)
        job = job_number(number)
        if job is None:
            raise ErpError(f'Job "{formats.shown(number)}" is not a {SAGE} job number (Job# is a number).')
        name = (name or "").strip()[:50] or number
        with self._begin() as conn:
            existing = conn.scalar(sa.select(actrec.c.jobnme).where(actrec.c.recnum == job))
            if existing is not None:
                return ErpJob(str(job), existing.strip())
            if not self.writes_enabled:
                raise ErpError(f"{WRITING_OFF}: add job {job} in 3-5 Jobs in {SAGE}.")
            conn.execute(actrec.insert().values(recnum=job, jobnme=name, status=NEW_JOB_STATUS))
        return ErpJob(str(job), name)

    def export_cost_code_lines(self, job_number_: str, lines: list[ExportLine]) -> list[LineResult]:
        return self.export_job_cost_codes({job_number_: lines})[job_number_]

    def export_job_cost_codes(
        self, lines_by_job: Mapping[str, Sequence[ExportLine]]
    ) -> dict[str, list[LineResult]]:
        if not self.writes_enabled:
            return {
                job: [LineResult(line.code, line.cost_type, "failed", WRITING_OFF_LINE) for line in lines]
                for job, lines in lines_by_job.items()
            }
        try:
            return self._export(lines_by_job)
        except IntegrityError:
            # Two syncs racing can both see a line as new; the second pass finds it.
            return self._export(lines_by_job)

    def _export(self, lines_by_job: Mapping[str, Sequence[ExportLine]]) -> dict[str, list[LineResult]]:
        with self._begin() as conn:
            budget = BudgetLines.load(conn, lines_by_job)
            validate = export_line_validator(formats.SAGE100)
            results: dict[str, list[LineResult]] = {}
            for job, lines in lines_by_job.items():
                job_results = results[job] = []
                if job_number(job) not in budget.jobs:
                    job_results.extend(
                        LineResult(li.code, li.cost_type, NO_SUCH_JOB, no_such_job(job)) for li in lines
                    )
                    continue
                for line in lines:
                    try:
                        job_results.append(budget.put_line(job, validate(line)))
                    except FORMAT_ERRORS as error:
                        job_results.append(LineResult(line.code, line.cost_type, "failed", str(error)))
            budget.save(conn)
            return results

    def export_commitment(self, job_number_: str, commitment: CommitmentExport) -> CommitmentResult:
        if self.commitments is not None:
            return self.commitments(self.has_job(job_number_), job_number_, commitment)
        return CommitmentResult(
            commitment.number,
            "failed",
            f"The {SAGE} database connector does not export contracts; enter it in {SAGE}.",
        )


class _Transaction:
    """engine.begin() whose database errors become one ErpError naming what failed."""

    def __init__(self, engine: sa.Engine):
        self._context = engine.begin()

    def __enter__(self):
        try:
            return self._context.__enter__()
        except SQLAlchemyError as error:
            raise ErpError(f"The {SAGE} database cannot be opened: {database_error_text(error)}") from error

    def __exit__(self, kind, error, traceback):
        try:
            handled = self._context.__exit__(kind, error, traceback)
        except IntegrityError:
            raise
        except SQLAlchemyError as failure:
            raise ErpError(
                f"The {SAGE} database refused the change: {database_error_text(failure)}"
            ) from failure
        if isinstance(error, SQLAlchemyError) and not isinstance(error, IntegrityError):
            raise ErpError(f"Reading the {SAGE} database failed: {database_error_text(error)}") from error
        return handled


def no_such_job(number: str) -> str:
    return f'Job "{formats.shown(number)}" does not exist in {SAGE}; create the job first.'
