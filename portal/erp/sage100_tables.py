"""The Sage 100 Contractor company database's tables and values, as far as public sources name
them (the sources are listed in sage100_database). The reference ERP creates these tables; a
customer's Sage already has them, and the connector never creates anything there.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from portal.erp import formats

SAGE = formats.ERP_NAMES[formats.SAGE100]

# The nine cost types a new company has: "Cost types 1 through 5 are preset by the system, but you
# can customize cost types 6 through 9" (Sage 100 Contractor help 24.1, "Setting up cost types").
# Issue 15 says companies rename them; the help says only 6-9. The names are read from csttyp
# either way, so whatever a company's Sage holds is what the portal shows.
COST_TYPE_NAMES = {
    1: "Material",
    2: "Labor",
    3: "Equipment",
    4: "Subcontract",
    5: "Other",
    6: "User Def Type 6",
    7: "User Def Type 7",
    8: "User Def Type 8",
    9: "User Def Type 9",
}
NEW_JOB_STATUS = 3  # "Contract" (help 19.7, "About job status")
BUDGET_AMOUNT_COLUMNS = (
    "hrsbdg",
    "matbdg",
    "labbdg",
    "eqpbdg",
    "subbdg",
    "othbdg",
    "usrcs6",
    "usrcs7",
    "usrcs8",
    "usrcs9",
    "ttlbdg",
)
WRITING_OFF = "Writing to the Sage 100 Contractor database is off for this company"

# The published tables, as the reference ERP creates them. Column types and keys are NOT
# published (only names are): these are the reference ERP's choices. Lower-case names, so the
# same SQL works unquoted on SQL Server, SQLite and PostgreSQL.
metadata = sa.MetaData()
cstdiv = sa.Table(
    "cstdiv",
    metadata,
    sa.Column("recnum", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("divnme", sa.String(50), nullable=False),
)
csttyp = sa.Table(
    "csttyp",
    metadata,
    sa.Column("recnum", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("typnme", sa.String(50), nullable=False),
)
cstcde = sa.Table(
    "cstcde",
    metadata,
    sa.Column("recnum", sa.Numeric(9, 3), primary_key=True),
    sa.Column("cdenme", sa.String(50), nullable=False),
    sa.Column("untdsc", sa.String(10)),
    sa.Column("divnum", sa.Integer),
    sa.Column("ntetxt", sa.Text),
)
actrec = sa.Table(
    "actrec",
    metadata,
    sa.Column("recnum", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("jobnme", sa.String(50), nullable=False),
    sa.Column("shtnme", sa.String(50)),
    sa.Column("status", sa.Integer),
)
bdglin = sa.Table(
    "bdglin",
    metadata,
    sa.Column("recnum", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("phsnum", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("linnum", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("cstcde", sa.Numeric(9, 3), nullable=False),
    *(sa.Column(name, sa.Numeric(10, 2), nullable=False, default=0) for name in BUDGET_AMOUNT_COLUMNS),
)


def code_number(code: str) -> Decimal:
    return Decimal(code)


def code_text(number: Decimal | float | int) -> str:
    """cstcde.recnum as the portal stores a Sage 100 Contractor code: 2010.000."""
    return f"{Decimal(str(number)):.3f}"


def job_number(number: str) -> int | None:
    """actrec.recnum is a number ("Job#"): None for a job number Sage 100 Contractor cannot hold."""
    cleaned = (number or "").strip()
    return int(cleaned) if cleaned.isdigit() else None


def division_number(division: str | None) -> int | None:
    try:
        return int(Decimal((division or "").strip()))
    except (InvalidOperation, ValueError):
        return None
