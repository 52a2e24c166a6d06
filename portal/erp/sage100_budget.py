"""What one export to a Sage 100 Contractor database reads and adds: the jobs' budget lines
(6-2 Budgets, table bdglin), the cost codes and divisions they need, the cost types.

A budget line has one amount column per cost type and no cost type column (see sage100_database),
so a job's cost code is one zero-amount line whatever its approved cost types.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from portal.db.bulk import IDS_PER_STATEMENT, slices
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
        self.new_codes: list[dict] = []
        self.new_lines: list[dict] = []

    @classmethod
    def load(cls, conn, lines_by_job: Mapping[str, Sequence[ExportLine]]) -> BudgetLines:
        found = cls()
        numbers = sorted({n for n in map(job_number, lines_by_job) if n is not None})
        found.cost_types = {str(n) for n in conn.scalars(sa.select(csttyp.c.recnum))}
        found.divisions = set(conn.scalars(sa.select(cstdiv.c.recnum)))
        wanted_codes = set()
        for lines in lines_by_job.values():
            for line in lines:
                try:
                    wanted_codes.add(code_number(formats.validate_cost_code(formats.SAGE100, line.code)))
                except (*FORMAT_ERRORS, InvalidOperation):
                    continue
        for some in slices(sorted(wanted_codes), IDS_PER_STATEMENT):
            found.codes.update(
                (Decimal(str(n)).quantize(Decimal("0.001")), (d or "").strip())
                for n, d in conn.execute(
                    sa.select(cstcde.c.recnum, cstcde.c.cdenme).where(cstcde.c.recnum.in_(some))
                )
            )
        for some in slices(numbers, IDS_PER_STATEMENT):
            found.jobs.update(conn.scalars(sa.select(actrec.c.recnum).where(actrec.c.recnum.in_(some))))
            for job, code in conn.execute(
                sa.select(bdglin.c.recnum, bdglin.c.cstcde).where(bdglin.c.recnum.in_(some))
            ):
                found.lines.add((job, Decimal(str(code)).quantize(Decimal("0.001"))))
            found.next_line.update(
                conn.execute(
                    sa.select(bdglin.c.recnum, sa.func.max(bdglin.c.linnum) + 1)
                    .where(bdglin.c.recnum.in_(some))
                    .group_by(bdglin.c.recnum)
                ).all()
            )
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
            self.new_codes.append({"recnum": number, "cdenme": description, "divnum": divnum})
        elif erp_description != description:
            # The ERP's text wins: an export never overwrites an existing code's description.
            kept = f'Kept the ERP description "{erp_description}" (portal had "{description}")'
        key = (job, number)
        if key in self.lines:
            message = (
                f"Job {job} already has a budget line for {code}; {SAGE} keeps no cost type on "
                f"a budget line, so the portal records that cost type {cost_type} was approved"
            )
            return LineResult(
                code,
                cost_type,
                "description_kept" if kept else "unchanged",
                f"{kept}; {message}." if kept else f"{message}.",
            )
        if key in self.added_lines:
            message = (
                f"Cost type {cost_type} shares the new budget line of {code} with cost type "
                f"{self.added_lines[key]}: {SAGE} budget lines have an amount column per cost type, "
                "not a cost type; the portal records the approval"
            )
            return LineResult(
                code,
                cost_type,
                "description_kept" if kept else "merged_cost_type",
                f"{kept}; {message}." if kept else f"{message}.",
            )
        self.added_lines[key] = cost_type
        linnum = self.next_line.get(job) or 1
        self.next_line[job] = linnum + 1
        self.new_lines.append(
            {
                "recnum": job,
                "phsnum": 0,
                "linnum": linnum,
                "cstcde": number,
                **dict.fromkeys(BUDGET_AMOUNT_COLUMNS, 0),
            }
        )
        created = (
            f"Added a budget line for {code} with zero amounts (cost type {cost_type} is recorded "
            "by the portal)"
        )
        if kept:
            return LineResult(code, cost_type, "description_kept", f"{kept}. {created}.")
        return LineResult(code, cost_type, "created", f"{created}.")

    def save(self, conn) -> None:
        if self.new_codes:
            conn.execute(cstcde.insert(), self.new_codes)
        if self.new_lines:
            conn.execute(bdglin.insert(), self.new_lines)
