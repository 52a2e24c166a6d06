"""The embedded reference ERP: a small database that behaves as Sage does for the portal.

It has its own tables on its own MetaData (never the portal's models), keyed by an ERP company
key so one database serves several companies. Accounting staff act on it through `cli`; the
data sync talks to it through `ReferenceErpConnector`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.bulk import IDS_PER_STATEMENT, insert_rows, slices
from portal.erp import formats
from portal.erp.base import (
    FORMAT_ERRORS,
    CommitmentExport,
    CommitmentResult,
    ErpCostCode,
    ErpCostType,
    ErpError,
    ErpJob,
    ExportLine,
    LineResult,
    export_line_validator,
)

DEFAULT_URL = "sqlite:///reference_erp.sqlite3"
SQLITE_BUSY_TIMEOUT_SECONDS = 30

# A new company starts with the cost types its ERP ships with, as a fresh Sage company does.
DEFAULT_COST_TYPES = {
    formats.SAGE100: [
        ("1", "Material"),
        ("2", "Labor"),
        ("3", "Equipment"),
        ("4", "Subcontract"),
        ("5", "Other"),
    ],
    formats.SAGE300: [
        ("LAB", "Labor"),
        ("MAT", "Material"),
        ("SUB", "Subcontract"),
        ("EQP", "Equipment"),
        ("OTH", "Other"),
    ],
}

metadata = sa.MetaData()

# Table names carry an erp_ prefix so that pointing the reference ERP at the portal's own
# database by mistake cannot collide with the portal's tables.
companies = sa.Table(
    "erp_companies",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("erp_system", sa.String(20), nullable=False),
)
cost_types = sa.Table(
    "erp_cost_types",
    metadata,
    sa.Column("company", sa.String(100), sa.ForeignKey("erp_companies.key"), primary_key=True),
    sa.Column("code", sa.String(10), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
)
standard_cost_codes = sa.Table(
    "erp_standard_cost_codes",
    metadata,
    sa.Column("company", sa.String(100), sa.ForeignKey("erp_companies.key"), primary_key=True),
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("description", sa.String(100), nullable=False),
    sa.Column("division", sa.String(40), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
)
jobs = sa.Table(
    "erp_jobs",
    metadata,
    sa.Column("company", sa.String(100), sa.ForeignKey("erp_companies.key"), primary_key=True),
    sa.Column("number", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
)
job_cost_codes = sa.Table(
    "erp_job_cost_codes",
    metadata,
    sa.Column("company", sa.String(100), primary_key=True),
    sa.Column("job", sa.String(40), primary_key=True),
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("description", sa.String(100), nullable=False),
    sa.Column("division", sa.String(40), nullable=False),
    sa.ForeignKeyConstraint(["company", "job"], ["erp_jobs.company", "erp_jobs.number"]),
)
job_cost_code_types = sa.Table(
    "erp_job_cost_code_types",
    metadata,
    sa.Column("company", sa.String(100), primary_key=True),
    sa.Column("job", sa.String(40), primary_key=True),
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("cost_type", sa.String(10), primary_key=True),
    sa.ForeignKeyConstraint(
        ["company", "job", "code"],
        [
            "erp_job_cost_codes.company",
            "erp_job_cost_codes.job",
            "erp_job_cost_codes.code",
        ],
    ),
)
commitments = sa.Table(
    "erp_commitments",
    metadata,
    sa.Column("company", sa.String(100), primary_key=True),
    sa.Column("job", sa.String(40), primary_key=True),
    sa.Column("number", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("parent", sa.String(40), nullable=True),
    sa.ForeignKeyConstraint(["company", "job"], ["erp_jobs.company", "erp_jobs.number"]),
)


def _make_engine(url: str) -> sa.Engine:
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

    # pysqlite defers BEGIN until the first write, so two exports could both read "code is
    # new" and then collide; taking the write lock at BEGIN makes each call one serial unit.
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        # As the portal's own database: WAL, and no fsync at every commit (only at checkpoints).
        dbapi_connection.execute("PRAGMA journal_mode = WAL")
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class ReferenceErp:
    """The reference ERP database and the admin actions accounting staff take on it."""

    def __init__(self, url: str = DEFAULT_URL):
        self.url = url
        self._engine = _make_engine(url)
        self._tables_ready = False
        self._lock = threading.Lock()

    def dispose(self) -> None:
        self._engine.dispose()

    def begin(self) -> sa.engine.base.Connection:
        """A transaction on the ERP database (a context manager), creating tables on first use."""
        if not self._tables_ready:
            with self._lock:
                if not self._tables_ready:
                    try:
                        metadata.create_all(self._engine)
                    except sa.exc.SQLAlchemyError as error:
                        raise ErpError(
                            f"The reference ERP database cannot be opened: {error}"
                        ) from error
                    self._tables_ready = True
        return self._engine.begin()

    def connector(self, key: str, mask: formats.CostCodeMask | None = None) -> ReferenceErpConnector:
        """One company's connector; `mask`: the Sage 300 CRE company's cost code mask, which
        every exported code must fit."""
        return ReferenceErpConnector(self, key, mask)

    # -- admin actions -------------------------------------------------------------------

    def ensure_company(self, key: str, erp_system: str) -> None:
        formats.erp_name(erp_system)
        with self.begin() as conn:
            existing = conn.scalar(sa.select(companies.c.erp_system).where(companies.c.key == key))
            if existing is None:
                conn.execute(companies.insert().values(key=key, erp_system=erp_system))
                conn.execute(
                    cost_types.insert(),
                    [
                        {"company": key, "code": code, "name": name}
                        for code, name in DEFAULT_COST_TYPES[erp_system]
                    ],
                )
            elif existing != erp_system:
                raise ErpError(
                    f'Company "{key}" uses {formats.ERP_NAMES[existing]} in the reference ERP, '
                    f"not {formats.erp_name(erp_system)}."
                )

    def erp_system(self, key: str) -> str:
        with self.begin() as conn:
            return _erp_system(conn, key)

    def add_cost_type(self, key: str, code: str, name: str) -> ErpCostType:
        with self.begin() as conn:
            erp_system = _erp_system(conn, key)
            code = formats.validate_cost_type(erp_system, code)
            name = formats.validate_cost_type_name(erp_system, name)
            _upsert(conn, cost_types, {"company": key, "code": code}, {"name": name})
        return ErpCostType(code, name)

    def add_standard_cost_code(
        self, key: str, code: str, description: str, division: str | None = None
    ) -> ErpCostCode:
        with self.begin() as conn:
            erp_system = _erp_system(conn, key)
            code = formats.validate_cost_code(erp_system, code)
            description = formats.validate_description(erp_system, description)
            division = (division or "").strip() or formats.division_of(erp_system, code)
            _upsert(
                conn,
                standard_cost_codes,
                {"company": key, "code": code},
                {"description": description, "division": division, "active": True},
            )
        return ErpCostCode(code, description, division)

    def add_job(self, key: str, number: str, name: str) -> ErpJob:
        """Create the job, or return the existing one unchanged (the ERP's name stays)."""
        name = _required_text(name, "A job name")
        with self.begin() as conn:
            number = formats.validate_job_number(number, _erp_system(conn, key))
            existing = conn.scalar(
                sa.select(jobs.c.name).where(jobs.c.company == key, jobs.c.number == number)
            )
            if existing is not None:
                return ErpJob(number, existing)
            conn.execute(jobs.insert().values(company=key, number=number, name=name))
        return ErpJob(number, name)

    def list_standard_codes(self, key: str) -> list[ErpCostCode]:
        """The company's active standard cost codes, by code."""
        with self.begin() as conn:
            _erp_system(conn, key)
            rows = conn.execute(
                sa.select(
                    standard_cost_codes.c.code,
                    standard_cost_codes.c.description,
                    standard_cost_codes.c.division,
                )
                .where(standard_cost_codes.c.company == key, standard_cost_codes.c.active)
                .order_by(*formats.in_code_order(standard_cost_codes.c.code))
            )
            return [ErpCostCode(*row) for row in rows]

    def list_job_codes(self, key: str, job_number: str) -> list[tuple[str, str, list[str]]]:
        """(code, description, cost types) for each cost code on the job, by code."""
        with self.begin() as conn:
            erp_system = _erp_system(conn, key)
            if not _job_exists(conn, key, job_number):
                raise ErpError(_no_such_job(job_number, erp_system))
            codes = conn.execute(
                sa.select(job_cost_codes.c.code, job_cost_codes.c.description)
                .where(job_cost_codes.c.company == key, job_cost_codes.c.job == job_number)
                .order_by(*formats.in_code_order(job_cost_codes.c.code))
            ).all()
            types: dict[str, list[str]] = {}
            for code, cost_type in conn.execute(
                sa.select(job_cost_code_types.c.code, job_cost_code_types.c.cost_type)
                .where(
                    job_cost_code_types.c.company == key,
                    job_cost_code_types.c.job == job_number,
                )
                .order_by(job_cost_code_types.c.cost_type)
            ):
                types.setdefault(code, []).append(cost_type)
            return [(code, description, types.get(code, [])) for code, description in codes]


class ReferenceErpConnector:
    """The reference ERP as one company's connector (implements ErpConnector)."""

    def __init__(self, erp: ReferenceErp, key: str, mask: formats.CostCodeMask | None = None):
        self.erp = erp
        self.key = key
        self.mask = mask

    def fetch_cost_types(self) -> list[ErpCostType]:
        with self.erp.begin() as conn:
            _erp_system(conn, self.key)
            rows = conn.execute(
                sa.select(cost_types.c.code, cost_types.c.name)
                .where(cost_types.c.company == self.key)
                .order_by(cost_types.c.code)
            )
            return [ErpCostType(*row) for row in rows]

    def fetch_standard_cost_codes(self) -> list[ErpCostCode]:
        return self.erp.list_standard_codes(self.key)

    def fetch_jobs(self) -> list[ErpJob]:
        with self.erp.begin() as conn:
            _erp_system(conn, self.key)
            rows = conn.execute(
                sa.select(jobs.c.number, jobs.c.name)
                .where(jobs.c.company == self.key)
                .order_by(jobs.c.number)
            )
            return [ErpJob(*row) for row in rows]

    def create_job(self, number: str, name: str) -> ErpJob:
        try:
            return self.erp.add_job(self.key, number, name)
        except ValueError as error:
            raise ErpError(str(error)) from error

    def export_cost_code_lines(self, job_number: str, lines: list[ExportLine]) -> list[LineResult]:
        return self.export_job_cost_codes({job_number: lines})[job_number]

    def export_job_cost_codes(
        self, lines_by_job: Mapping[str, Sequence[ExportLine]]
    ) -> dict[str, list[LineResult]]:
        # Many jobs in one ERP transaction: a sync exports a few hundred requests at a time,
        # and a transaction (with its reads of each job's codes) per job cost more than the work.
        return _retry_once_on_conflict(lambda: self._export_jobs(lines_by_job))

    def _export_jobs(self, lines_by_job: Mapping[str, Sequence[ExportLine]]) -> dict[str, list[LineResult]]:
        with self.erp.begin() as conn:
            erp_system = _erp_system(conn, self.key)
            cost_type_names = dict(conn.execute(_COMPANY_COST_TYPES, {"key": self.key}).all())
            codes = _JobCodes.load(conn, self.key, list(lines_by_job))
            validate, put_line = export_line_validator(erp_system, self.mask), codes.put_line
            results: dict[str, list[LineResult]] = {}
            for job_number, lines in lines_by_job.items():
                if job_number not in codes.jobs:
                    message = _no_such_job(job_number, erp_system)
                    results[job_number] = [
                        LineResult(line.code, line.cost_type, "failed", message) for line in lines
                    ]
                    continue
                job_results = results[job_number] = []
                for line in lines:
                    try:
                        valid = validate(line)
                    except FORMAT_ERRORS as error:
                        job_results.append(LineResult(line.code, line.cost_type, "failed", str(error)))
                        continue
                    if valid.cost_type not in cost_type_names:
                        message = (
                            f'Cost type "{valid.cost_type}" does not exist in '
                            f"{formats.ERP_NAMES[erp_system]}; add it there first."
                        )
                        job_results.append(LineResult(valid.code, valid.cost_type, "failed", message))
                        continue
                    job_results.append(put_line(job_number, valid))
            codes.save(conn)
            return results

    def export_commitment(self, job_number: str, commitment: CommitmentExport) -> CommitmentResult:
        return _retry_once_on_conflict(lambda: self._export_commitment(job_number, commitment))

    def _export_commitment(self, job_number: str, c: CommitmentExport) -> CommitmentResult:
        def failed(message: str) -> CommitmentResult:
            return CommitmentResult(c.number, "failed", message)

        with self.erp.begin() as conn:
            erp_system = _erp_system(conn, self.key)
            if not _job_exists(conn, self.key, job_number):
                return failed(_no_such_job(job_number, erp_system))
            if c.kind not in ("contract", "change_order"):
                return failed(f'Unknown commitment kind "{c.kind}"; use contract or change_order.')
            if not c.number.strip() or not c.title.strip():
                return failed("A commitment needs a number and a title.")
            if c.kind == "change_order":
                parent_kind = conn.scalar(
                    sa.select(commitments.c.kind).where(
                        commitments.c.company == self.key,
                        commitments.c.job == job_number,
                        commitments.c.number == (c.parent_number or ""),
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
                    commitments.c.company == self.key,
                    commitments.c.job == job_number,
                    commitments.c.number == c.number,
                )
            ).first()
            if existing is None:
                conn.execute(
                    commitments.insert().values(
                        company=self.key, job=job_number, number=c.number, **wanted
                    )
                )
                return CommitmentResult(c.number, "created", "")
            if dict(existing._mapping) == wanted:
                return CommitmentResult(c.number, "unchanged", "Already in the ERP.")
            return failed(
                f'Commitment "{c.number}" already exists on job "{job_number}" with different '
                "details; change it in the ERP."
            )


# Built once, for the `key` and `numbers` parameters: an export runs them for every batch, and
# building them anew each time showed in its profile.
_JOBS_NAMED = sa.select(jobs.c.number).where(
    jobs.c.company == sa.bindparam("key"), jobs.c.number.in_(sa.bindparam("numbers", expanding=True))
)
_CODES_OF_JOBS = sa.select(job_cost_codes.c.job, job_cost_codes.c.code, job_cost_codes.c.description).where(
    job_cost_codes.c.company == sa.bindparam("key"),
    job_cost_codes.c.job.in_(sa.bindparam("numbers", expanding=True)),
)
_COST_TYPES_OF_JOBS = sa.select(
    job_cost_code_types.c.job, job_cost_code_types.c.code, job_cost_code_types.c.cost_type
).where(
    job_cost_code_types.c.company == sa.bindparam("key"),
    job_cost_code_types.c.job.in_(sa.bindparam("numbers", expanding=True)),
)
_COMPANY_ERP_SYSTEM = sa.select(companies.c.erp_system).where(companies.c.key == sa.bindparam("key"))
_COMPANY_COST_TYPES = sa.select(cost_types.c.code, cost_types.c.name).where(
    cost_types.c.company == sa.bindparam("key")
)


class _JobCodes:
    """Some jobs' cost codes, read once per export and written back in two executemany calls,
    so an export of thousands of lines costs a few statements, not several per line."""

    def __init__(self, key: str, jobs: set[str]):
        self.key = key
        self.jobs = jobs
        self.descriptions: dict[tuple[str, str], str] = {}
        self.types: set[tuple[str, str, str]] = set()
        self.new_codes: list[tuple] = []
        self.new_types: list[tuple] = []

    @classmethod
    def load(cls, conn, key: str, job_numbers: list[str]) -> _JobCodes:
        found = cls(key, set())
        # In slices: a database takes only so many parameters in one statement.
        for numbers in slices(job_numbers, IDS_PER_STATEMENT):
            parameters = {"key": key, "numbers": list(numbers)}
            found.jobs.update(conn.scalars(_JOBS_NAMED, parameters).all())
            found.descriptions.update(
                ((job, code), description)
                for job, code, description in conn.execute(_CODES_OF_JOBS, parameters).all()
            )
            found.types.update(tuple(row) for row in conn.execute(_COST_TYPES_OF_JOBS, parameters).all())
        return found

    def put_line(self, job_number: str, line: ExportLine) -> LineResult:
        code, description, cost_type, division = line
        erp_description = self.descriptions.get((job_number, code))
        has_type = (job_number, code, cost_type) in self.types
        if not has_type:
            self.types.add((job_number, code, cost_type))
            self.new_types.append((self.key, job_number, code, cost_type))
        if erp_description is None:
            self.descriptions[job_number, code] = description
            self.new_codes.append((self.key, job_number, code, description, division))
            return LineResult(code, cost_type, "created", "")
        if erp_description != description:
            # The ERP's text wins: an export never overwrites an existing code's description.
            message = f'Kept the ERP description "{erp_description}" (portal had "{description}")'
            if not has_type:
                message += f"; added cost type {cost_type}"
            return LineResult(code, cost_type, "description_kept", message + ".")
        if not has_type:
            return LineResult(code, cost_type, "merged_cost_type", f"Added cost type {cost_type}.")
        return LineResult(code, cost_type, "unchanged", "Already on the job.")

    def save(self, conn) -> None:
        # Thousands of rows in one export: straight to the driver.
        insert_rows(conn, job_cost_codes, self.new_codes)
        insert_rows(conn, job_cost_code_types, self.new_types)


def _retry_once_on_conflict(export):
    # Two syncs racing on PostgreSQL can both see a row as new; the loser's transaction rolls
    # back and a second pass finds the row and answers "unchanged".
    try:
        return export()
    except IntegrityError:
        return export()


def _erp_system(conn, key: str) -> str:
    erp_system = conn.scalar(_COMPANY_ERP_SYSTEM, {"key": key})
    if erp_system is None:
        # Say which keys exist: the ERP's keys ("harbor-point") differ from the portal's e-mail domains.
        known = ", ".join(conn.scalars(sa.select(companies.c.key).order_by(companies.c.key))) or "none yet"
        raise ErpError(f'There is no company "{key}" in the reference ERP (companies: {known}).')
    return erp_system


def _job_exists(conn, key: str, number: str) -> bool:
    found = conn.scalar(
        sa.select(jobs.c.number).where(jobs.c.company == key, jobs.c.number == number)
    )
    return found is not None


def _no_such_job(number: str, erp_system: str) -> str:
    return (
        f'Job "{formats.shown(number)}" does not exist in {formats.ERP_NAMES[erp_system]}; '
        "create the job first."
    )


def _required_text(text: str, what: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValueError(f"{what} cannot be empty.")
    return cleaned


def _upsert(conn, table: sa.Table, key_values: dict, values: dict) -> None:
    where = [table.c[name] == value for name, value in key_values.items()]
    if conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)):
        conn.execute(table.update().where(*where).values(**values))
    else:
        conn.execute(table.insert().values(**key_values, **values))
