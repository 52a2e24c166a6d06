"""What one export to a Sage 100 Contractor database reads and adds: the jobs' budget lines
(6-2 Budgets, table bdglin), the cost codes and divisions they need, the cost types.

A budget line has one amount column per cost type and no cost type column (see sage100_database),
so a job's cost code is one zero-amount line whatever its approved cost types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from portal.db.bulk import IDS_PER_STATEMENT, insert_rows, slices
from portal.erp import formats
from portal.erp.base import FORMAT_ERRORS, ExportLine, LineResult
from portal.erp.sage100_tables import (
    BUDGET_AMOUNT_COLUMNS,
    SAGE,
    actrec,
    bdglin,
    code_number,
    cstcde,
    cstdiv,
    csttyp,
    division_number,
    job_number,
)

# One text per outcome, naming neither code nor cost type (the line shows them): the sync stores
# the answers of a batch one UPDATE per distinct text.
ADDED_LINE = (
    "Added a budget line with zero amounts; the portal records the approved cost type "
    f"({SAGE} budget lines have an amount column per cost type, no cost type)."
)
SHARES_NEW_LINE = (
    "Shares the code's new budget line on the job; the portal records the approved cost type "
    f"({SAGE} budget lines have an amount column per cost type, no cost type)."
)
ALREADY_BUDGETED = (
    "The job already has a budget line for this code; the portal records the approved cost type "
    f"({SAGE} keeps no cost type on a budget line)."
)

# Built once, for their parameters: an export runs them for every batch.
_COST_TYPES = sa.select(csttyp.c.recnum)
_DIVISIONS = sa.select(cstdiv.c.recnum)
_CODES_NAMED = sa.select(cstcde.c.recnum, cstcde.c.cdenme).where(
    cstcde.c.recnum.in_(sa.bindparam("codes", expanding=True))
)
_JOBS_NAMED = sa.select(actrec.c.recnum).where(actrec.c.recnum.in_(sa.bindparam("jobs", expanding=True)))
_LINES_OF_JOBS = sa.select(bdglin.c.recnum, bdglin.c.cstcde).where(
    bdglin.c.recnum.in_(sa.bindparam("jobs", expanding=True))
)
_NEXT_LINE_OF_JOBS = (
    sa.select(bdglin.c.recnum, sa.func.max(bdglin.c.linnum) + 1)
    .where(bdglin.c.recnum.in_(sa.bindparam("jobs", expanding=True)))
    .group_by(bdglin.c.recnum)
)
_THOUSANDTH = Decimal("0.001")
_ZERO_AMOUNTS = (0,) * len(BUDGET_AMOUNT_COLUMNS)


def _thousandths(number) -> Decimal:
    return Decimal(str(number)).quantize(_THOUSANDTH)


class BudgetLines:
    """The budget lines, cost codes, divisions and cost types an export needs, read once, and
    the rows it adds, written in two executemany calls."""

    def __init__(self):
        self.jobs: set[int] = set()
        self.lines: set[tuple[int, Decimal]] = set()  # (job, cost code) with a budget line already
        self.added_lines: dict[tuple[int, Decimal], str] = {}  # ... added by this export: first type
        self.next_line: dict[int, int] = {}
        self.codes: dict[Decimal, str] = {}
        self.divisions: set[int] = set()
        self.cost_types: set[str] = set()
        self.new_codes: list[tuple] = []
        self.new_lines: list[tuple] = []

    @classmethod
    def load(cls, conn, lines_by_job: Mapping[str, Sequence[ExportLine]]) -> BudgetLines:
        found = cls()
        numbers = sorted({n for n in map(job_number, lines_by_job) if n is not None})
        found.cost_types = {str(n) for n in conn.scalars(_COST_TYPES)}
        found.divisions = set(conn.scalars(_DIVISIONS))
        wanted_codes = set()
        for lines in lines_by_job.values():
            for line in lines:
                try:
                    wanted_codes.add(code_number(formats.validate_cost_code(formats.SAGE100, line.code)))
                except (*FORMAT_ERRORS, InvalidOperation):
                    continue
        # In slices: a database takes only so many parameters in one statement.
        for some in slices(sorted(wanted_codes), IDS_PER_STATEMENT):
            found.codes.update(
                (_thousandths(n), (d or "").strip())
                for n, d in conn.execute(_CODES_NAMED, {"codes": list(some)})
            )
        for some in slices(numbers, IDS_PER_STATEMENT):
            parameters = {"jobs": list(some)}
            found.jobs.update(conn.scalars(_JOBS_NAMED, parameters))
            found.lines.update(
                (job, _thousandths(code)) for job, code in conn.execute(_LINES_OF_JOBS, parameters)
            )
            found.next_line.update(conn.execute(_NEXT_LINE_OF_JOBS, parameters).all())
        return found

    def put_line(self, job_text: str, line: ExportLine) -> LineResult:
        code, description, cost_type, division = line
        if cost_type not in self.cost_types:
            return LineResult(
                code,
                cost_type,
                "failed",
                f'Cost type "{cost_type}" does not exist in {SAGE}; add it there first.',
            )
        number, job = code_number(code), job_number(job_text)
        kept = ""
        erp_description = self.codes.get(number)
        if erp_description is None:
            divnum = division_number(division)
            if divnum not in self.divisions:
                return LineResult(
                    code,
                    cost_type,
                    "failed",
                    (
                        f"Cost code {code} is in division "
                        f'"{formats.shown(division or "")}", which {SAGE} does '
                        "not have; add the division in the Cost Divisions window (6-5 Cost Codes) first."
                    ),
                )
            self.codes[number] = description
            # cstcde's columns in order: recnum, cdenme, untdsc, divnum, ntetxt.
            self.new_codes.append((number, description, None, divnum, None))
        elif erp_description != description:
            # The ERP's text wins: an export never overwrites an existing code's description.
            kept = f'Kept the ERP description "{erp_description}" (portal had "{description}")'
        key = (job, number)
        if key in self.lines:
            return LineResult(
                code,
                cost_type,
                "description_kept" if kept else "unchanged",
                f"{kept}; {ALREADY_BUDGETED}" if kept else ALREADY_BUDGETED,
            )
        if key in self.added_lines:
            return LineResult(
                code,
                cost_type,
                "description_kept" if kept else "merged_cost_type",
                f"{kept}; {SHARES_NEW_LINE}" if kept else SHARES_NEW_LINE,
            )
        self.added_lines[key] = cost_type
        linnum = self.next_line.get(job) or 1
        self.next_line[job] = linnum + 1
        # bdglin's columns in order: job, phase 0, line, cost code, then every amount zero.
        self.new_lines.append((job, 0, linnum, number, *_ZERO_AMOUNTS))
        if kept:
            return LineResult(code, cost_type, "description_kept", f"{kept}. {ADDED_LINE}")
        return LineResult(code, cost_type, "created", ADDED_LINE)

    def save(self, conn) -> None:
        # Hundreds of rows in one export: straight to the driver, every column in table order.
        insert_rows(conn, cstcde, self.new_codes)
        insert_rows(conn, bdglin, self.new_lines)
