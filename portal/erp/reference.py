"""The embedded reference ERP: the portal's stand-in for a company's Sage, on Sage's own tables.

Each Sage 100 Contractor company is a database with the tables Sage 100 Contractor keeps in its SQL
Server company database (`sage100_database`); each Sage 300 CRE company one with the tables the
Timberline ODBC driver shows (`sage300_odbc`, `reference_sage300`). The sync reaches them through
the same connector classes a customer's Sage is reached through, so only the URL differs.

ERP_DATABASE_URL is the reference ERP's directory: which companies it has (`erp_companies`) and
the contracts the demo exports (`erp_commitments`, the reference ERP's own ledger: no Sage table
for them was researched). A company's own database is beside it: on SQLite the file
`<directory>-<company>.sqlite`, on PostgreSQL the schema `erp_<company>` of the same database.
The portal creates these (not Alembic); a directory still in the layout before issue 15 (invented
tables `erp_cost_types`, `erp_standard_cost_codes`, `erp_jobs`, ...) is copied into the new one on
first use and its old tables dropped, with a warning saying so.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import sqlalchemy as sa

from portal.erp import formats
from portal.erp.base import (
    CommitmentExport,
    CommitmentResult,
    ErpConnector,
    ErpCostCode,
    ErpCostType,
    ErpError,
    ErpJob,
)
from portal.erp.engines import database_error_text, erp_engine
from portal.erp.reference_migration import OLD_LAYOUT_TABLES, migrate_old_layout
from portal.erp.reference_sage300 import ReferenceSage300Connector
from portal.erp.reference_sage300 import metadata as sage300_tables
from portal.erp.sage100_database import (
    COST_TYPE_NAMES,
    Sage100DatabaseConnector,
    code_number,
    cstcde,
    cstdiv,
    csttyp,
)
from portal.erp.sage100_database import metadata as sage100_tables

DEFAULT_URL = "sqlite:///reference_erp.sqlite3"
# A new Sage 300 CRE company's standard categories and mask (two sections, "99-999").
SAGE300_CATEGORIES = [
    ("LAB", "Labor"),
    ("MAT", "Material"),
    ("SUB", "Subcontract"),
    ("EQP", "Equipment"),
    ("OTH", "Other"),
]
SAGE300_MASK = [(2, "-"), (3, "")]

directory = sa.MetaData()
companies = sa.Table(
    "erp_companies",
    directory,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("erp_system", sa.String(20), nullable=False),
)
commitments = sa.Table(
    "erp_commitments",
    directory,
    sa.Column("company", sa.String(100), primary_key=True),
    sa.Column("job", sa.String(40), primary_key=True),
    sa.Column("number", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("parent", sa.String(40), nullable=True),
)


def company_url(url: str, key: str) -> str:
    """The URL of company `key`'s own database, beside the directory at `url`."""
    safe = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_") or "company"
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ErpError("The reference ERP needs a database file (ERP_DATABASE_URL sqlite:///path).")
        path = Path(parsed.database)
        return str(parsed.set(database=str(path.with_name(f"{path.stem}-{safe}{path.suffix}"))))
    if parsed.get_backend_name() == "postgresql":
        return parsed.update_query_dict({"options": f"-csearch_path=erp_{safe}"}).render_as_string(
            hide_password=False
        )
    raise ErpError("The reference ERP runs on SQLite or PostgreSQL; point ERP_DATABASE_URL at one of them.")


class ReferenceErp:
    """The reference ERP and the admin actions accounting staff take on it."""

    def __init__(self, url: str = DEFAULT_URL):
        self.url = url
        self._engine = erp_engine(url)
        self._company_engines: dict[str, sa.Engine] = {}
        self._systems: dict[str, str] = {}  # a company never changes ERP: asked once
        self._ready = False
        self._lock = threading.RLock()
        self.migration_note: str | None = None

    def dispose(self) -> None:
        self._engine.dispose()
        for engine in self._company_engines.values():
            engine.dispose()
        self._company_engines.clear()

    def begin(self):
        """A transaction on the directory, which is created (or brought to today's layout) first."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    try:
                        old = [
                            t for t in sa.inspect(self._engine).get_table_names() if t in OLD_LAYOUT_TABLES
                        ]
                        if old:
                            migrate_old_layout(self)
                        directory.create_all(self._engine)
                    except sa.exc.SQLAlchemyError as error:
                        raise ErpError(
                            f"The reference ERP database cannot be opened: {database_error_text(error)}"
                        ) from error
                    self._ready = True
        return self._engine.begin()

    def _company_engine(self, key: str, erp_system: str, create: bool = False) -> sa.Engine:
        with self._lock:
            engine = self._company_engines.get(key)
            if engine is None:
                engine = self._company_engines[key] = erp_engine(company_url(self.url, key))
            if create:
                if engine.dialect.name == "postgresql":
                    schema = sa.engine.make_url(engine.url).query["options"].split("=", 1)[1]
                    with self._engine.begin() as conn:
                        conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                tables = sage100_tables if erp_system == formats.SAGE100 else sage300_tables
                tables.create_all(engine)
            return engine

    def connector(self, key: str, mask: formats.CostCodeMask | None = None) -> ErpConnector:
        """One company's connector; `mask`: the Sage 300 CRE company's cost code mask, which
        every exported code must fit."""
        erp_system = self.erp_system(key)
        engine = self._company_engine(key, erp_system)
        ledger = _Ledger(self, key)
        if erp_system == formats.SAGE100:
            return Sage100DatabaseConnector(
                str(engine.url), writes_enabled=True, engine=engine, commitments=ledger
            )
        return ReferenceSage300Connector(engine, commitments=ledger, mask=mask)

    # -- admin actions -------------------------------------------------------------------

    def ensure_company(self, key: str, erp_system: str) -> None:
        formats.erp_name(erp_system)
        with self.begin() as conn:
            existing = conn.scalar(sa.select(companies.c.erp_system).where(companies.c.key == key))
            if existing is not None and existing != erp_system:
                raise ErpError(
                    f'Company "{key}" uses {formats.ERP_NAMES[existing]} in the reference ERP, '
                    f"not {formats.erp_name(erp_system)}."
                )
            if existing is None:
                conn.execute(companies.insert().values(key=key, erp_system=erp_system))
        if existing is not None:
            return
        engine = self._company_engine(key, erp_system, create=True)
        if erp_system == formats.SAGE100:
            with engine.begin() as conn:
                if not conn.scalar(sa.select(sa.func.count()).select_from(csttyp)):
                    conn.execute(
                        csttyp.insert(),
                        [{"recnum": n, "typnme": name} for n, name in COST_TYPE_NAMES.items()],
                    )
        else:
            connector = ReferenceSage300Connector(engine)
            connector.set_mask(SAGE300_MASK)
            for code, name in SAGE300_CATEGORIES:
                connector.put_category(code, name)

    def erp_system(self, key: str) -> str:
        if key in self._systems:
            return self._systems[key]
        with self.begin() as conn:
            erp_system = conn.scalar(sa.select(companies.c.erp_system).where(companies.c.key == key))
            if erp_system is None:
                # Say which keys exist: the ERP's keys ("harbor-point") differ from the portal's
                # e-mail domains.
                known = (
                    ", ".join(conn.scalars(sa.select(companies.c.key).order_by(companies.c.key)))
                    or "none yet"
                )
                raise ErpError(f'There is no company "{key}" in the reference ERP (companies: {known}).')
        self._systems[key] = erp_system
        return erp_system

    def add_cost_type(self, key: str, code: str, name: str) -> ErpCostType:
        erp_system = self.erp_system(key)
        code = formats.validate_cost_type(erp_system, code)
        name = formats.validate_cost_type_name(erp_system, name)
        engine = self._company_engine(key, erp_system)
        if erp_system == formats.SAGE100:
            _upsert(engine, csttyp, {"recnum": int(code)}, {"typnme": name})
        else:
            ReferenceSage300Connector(engine).put_category(code, name)
        return ErpCostType(code, name)

    def add_division(self, key: str, number: str, name: str) -> None:
        """A Sage 100 Contractor cost division (the Cost Divisions window of 6-5 Cost Codes)."""
        if self.erp_system(key) != formats.SAGE100:
            raise ErpError("Only Sage 100 Contractor keeps a list of divisions.")
        if not number.strip().isdigit():
            raise ValueError(
                f'Division "{formats.shown(number)}" is not a number; '
                "Sage 100 Contractor divisions are numbered."
            )
        engine = self._company_engine(key, formats.SAGE100)
        _upsert(engine, cstdiv, {"recnum": int(number)}, {"divnme": _required_text(name, "A division name")})

    def add_standard_cost_code(
        self, key: str, code: str, description: str, division: str | None = None, division_name: str = ""
    ) -> ErpCostCode:
        erp_system = self.erp_system(key)
        code = formats.validate_cost_code(erp_system, code)
        description = formats.validate_description(erp_system, description)
        engine = self._company_engine(key, erp_system)
        if erp_system == formats.SAGE300:
            ReferenceSage300Connector(engine).put_standard_code(code, description)
            return ErpCostCode(code, description, "")
        division = (division or "").strip() or formats.division_of(erp_system, code)
        with engine.begin() as conn:
            has_division = conn.scalar(sa.select(cstdiv.c.recnum).where(cstdiv.c.recnum == int(division)))
        if has_division is None:
            # Sage requires the division first; the reference ERP's command enters both at once.
            self.add_division(key, division, division_name or f"Division {division}")
        _upsert(
            engine, cstcde, {"recnum": code_number(code)}, {"cdenme": description, "divnum": int(division)}
        )
        return ErpCostCode(code, description, division)

    def add_job(self, key: str, number: str, name: str) -> ErpJob:
        """Create the job, or return the existing one unchanged (the ERP's name stays)."""
        number = formats.validate_job_number(number, self.erp_system(key))
        name = _required_text(name, "A job name")
        return self.connector(key).create_job(number, name)

    def list_standard_codes(self, key: str) -> list[ErpCostCode]:
        """The company's standard cost codes, by code."""
        codes = self.connector(key).fetch_standard_cost_codes()
        return sorted(codes, key=lambda code: formats.code_order_key(code.code))

    def list_job_codes(self, key: str, job_number: str) -> list[tuple[str, str, list[str]]]:
        """(code, description, cost types Sage records) for each cost code on the job, by code."""
        rows = self.connector(key).list_job_codes(job_number)
        return sorted(rows, key=lambda row: formats.code_order_key(row[0]))

class _Ledger:
    """The reference ERP's own contracts ledger for one company (see the module docstring)."""

    def __init__(self, erp: ReferenceErp, key: str):
        self.erp, self.key = erp, key

    def __call__(self, job_exists: bool, job_number: str, c: CommitmentExport) -> CommitmentResult:
        try:
            return self._export(job_exists, job_number, c)
        except sa.exc.IntegrityError:
            return self._export(job_exists, job_number, c)

    def _export(self, job_exists: bool, job_number: str, c: CommitmentExport) -> CommitmentResult:
        def failed(message: str) -> CommitmentResult:
            return CommitmentResult(c.number, "failed", message)

        erp_name = formats.ERP_NAMES[self.erp.erp_system(self.key)]
        if not job_exists:
            return failed(
                f'Job "{formats.shown(job_number)}" does not exist in {erp_name}; create the job first.'
            )
        if c.kind not in ("contract", "change_order"):
            return failed(f'Unknown commitment kind "{c.kind}"; use contract or change_order.')
        if not c.number.strip() or not c.title.strip():
            return failed("A commitment needs a number and a title.")
        this_job = (commitments.c.company == self.key, commitments.c.job == job_number)
        with self.erp.begin() as conn:
            if c.kind == "change_order":
                parent_kind = conn.scalar(
                    sa.select(commitments.c.kind).where(
                        *this_job, commitments.c.number == (c.parent_number or "")
                    )
                )
                if parent_kind != "contract":
                    return failed(
                        f'Change order "{c.number}" needs its contract "{c.parent_number}" '
                        f'on job "{job_number}"; export the contract first.'
                    )
            wanted = {
                "kind": c.kind,
                "title": c.title.strip(),
                "amount_cents": c.amount_cents,
                "parent": c.parent_number if c.kind == "change_order" else None,
            }
            existing = conn.execute(
                sa.select(*(commitments.c[name] for name in wanted)).where(
                    *this_job, commitments.c.number == c.number
                )
            ).first()
            if existing is None:
                conn.execute(
                    commitments.insert().values(company=self.key, job=job_number, number=c.number, **wanted)
                )
                return CommitmentResult(c.number, "created", "")
            if dict(existing._mapping) == wanted:
                return CommitmentResult(c.number, "unchanged", "Already in the ERP.")
            return failed(
                f'Commitment "{c.number}" already exists on job "{job_number}" with different '
                "details; change it in the ERP."
            )


def _required_text(text: str, what: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValueError(f"{what} cannot be empty.")
    return cleaned


def _upsert(engine: sa.Engine, table: sa.Table, key_values: dict, values: dict) -> None:
    with engine.begin() as conn:
        where = [table.c[name] == value for name, value in key_values.items()]
        if conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)):
            conn.execute(table.update().where(*where).values(**values))
        else:
            conn.execute(table.insert().values(**key_values, **values))
