"""The Sage 300 CRE ODBC reader: the company's cost code mask, standard cost codes, standard
categories and jobs, read through the Timberline ODBC driver (pyodbc, the optional extra
`[sage300]`).

The SQL below is the one text run everywhere: against a customer's Timberline data through the
driver, and in the reference ERP and the tests against same-named tables on SQLite and PostgreSQL
(unquoted names, which PostgreSQL folds to the lower-case names the reference ERP creates).

Sources (public integrator code; Sage publishes no ODBC table reference found with the search tool):
- Tables JCM_MASTER__STANDARD_COST_CODE (Cost_Code, Description), JCM_MASTER__STANDARD_CATEGORY
  (Category, ...), JCM_MASTER__JOB (Job, Description, Status), JCM_MASTER__COST_CODE and
  JCM_MASTER__CATEGORY (Job, Extra, Cost_Code, Category, Description): public ODBC client code and
  an EF Core model scaffolded from Sage 300 CRE data (sage_facts b, b2). No published source gives a
  Description column for STANDARD categories, so the reader takes one only when the table has it
  and otherwise names a category by its code.
- The mask: TS_CTL_RECORD_3 rows with FLDCODE 18 (job cost cost codes), one per section: CSLEN the
  section's length, CNPUNCT the punctuation after it; that table is exposed only on a connection in
  dictionary mode (DictionaryMode=1), the rest in standard mode (StandardMode=1) (sage_facts a4, b5).
- Driver "Timberline Data", DBQ the company's data folder, UID/PWD a Sage 300 CRE user with the
  "ODBC Service User" role (Trimble App Xchange / Ryvit setup pages; sage_facts b3, b4).

Issue 15 says Sage 300 CRE "has no documented way to receive job cost codes from outside"; that is
only partly so (Import Estimate, below), but no documented way for a program such as the portal was
found. Sage 300 CRE takes no cost codes from outside in any way the sources document for a program like
the portal: Procore, which reads codes from it, says "New cost codes must be created in your ERP
system" (Procore, Sage 300 CRE Detailed Data Mapping); Job Cost's Import Estimate can create job
cost codes from an estimate file (Sage Estimating help 22.1, "Setting up in Sage 300 Construction
and Real Estate Job Cost"). So this connector never writes: an approved line's result tells the
accountant what to add in Job Cost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from portal.erp import formats
from portal.erp.base import (
    CommitmentExport,
    CommitmentResult,
    ErpConnector,
    ErpCostCode,
    ErpCostType,
    ErpError,
    ErpJob,
    ErpJobCostCode,
    ExportLine,
    LineResult,
)

SAGE = formats.ERP_NAMES[formats.SAGE300]
COST_CODE_FIELD = 18  # TS_CTL_RECORD_3.FLDCODE of job cost cost codes

MASK_SQL = (  # FLDCODE 18 is COST_CODE_FIELD, written out: the SQL is one plain text
    "SELECT Section, CSLEN, CNPUNCT FROM TS_CTL_RECORD_3 WHERE FLDCODE = 18 AND Section > 0 ORDER BY Section"
)
STANDARD_CODES_SQL = "SELECT Cost_Code, Description FROM JCM_MASTER__STANDARD_COST_CODE ORDER BY Cost_Code"
STANDARD_CATEGORIES_SQL = "SELECT * FROM JCM_MASTER__STANDARD_CATEGORY ORDER BY Category"
JOBS_SQL = "SELECT Job, Description FROM JCM_MASTER__JOB ORDER BY Job"
JOB_COST_CODES_SQL = "SELECT Job, Cost_Code, Description FROM JCM_MASTER__COST_CODE ORDER BY Job, Cost_Code"
JOB_CATEGORIES_SQL = (
    "SELECT Job, Cost_Code, Category FROM JCM_MASTER__CATEGORY ORDER BY Job, Cost_Code, Category"
)

# One text for every line (the line names its code, category and job).
NO_WRITING = (
    f"{SAGE} takes no cost codes from the portal: add the code with its category to the job in "
    "Job Cost (or bring it in with Job Cost's Import Estimate)."
)

EXPORT_NOTE = (
    f"{SAGE} takes no cost codes from outside: approving records the decision in the portal, "
    "and the accountant adds the codes and categories to the job in Job Cost (or with Import Estimate)."
)

# A query: (SQL, dictionary mode?) -> (column names, rows).
Query = Callable[[str, bool], tuple[list[str], list[Sequence[Any]]]]


def mask_text(sections: Sequence[tuple[int, str]]) -> str:
    """The mask as the portal shows it: each section's length in 9s, then its punctuation
    ("99-999" for sections of 2 and 3 joined by "-")."""
    return "".join(
        "9" * int(length) + (punctuation or "").strip() for length, punctuation in sections
    ).rstrip("-/.")


class Sage300OdbcConnector(ErpConnector):
    """One Sage 300 CRE company (data folder), read-only."""

    def __init__(self, query: Query):
        self._query = query

    def _rows(self, sql: str, dictionary: bool = False) -> tuple[list[str], list[Sequence[Any]]]:
        try:
            return self._query(sql, dictionary)
        except ErpError:
            raise
        except Exception as error:  # the driver's own error class varies: pyodbc, sqlite3, psycopg
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ErpError(
                f"Reading {SAGE} failed ({sql.split(' FROM ')[1].split()[0]}): {first_line}"
            ) from error

    def fetch_cost_code_mask(self) -> str | None:
        _columns, rows = self._rows(MASK_SQL, True)
        return mask_text([(length, punctuation) for _section, length, punctuation in rows]) or None

    def fetch_cost_types(self) -> list[ErpCostType]:
        columns, rows = self._rows(STANDARD_CATEGORIES_SQL)
        names = [c.lower() for c in columns]
        code_at = names.index("category")
        name_at = names.index("description") if "description" in names else code_at
        return [ErpCostType(_text(row[code_at]), _text(row[name_at]) or _text(row[code_at])) for row in rows]

    def fetch_standard_cost_codes(self) -> list[ErpCostCode]:
        _columns, rows = self._rows(STANDARD_CODES_SQL)
        return [ErpCostCode(_text(code), _text(description), "") for code, description in rows]

    def fetch_jobs(self) -> list[ErpJob]:
        _columns, rows = self._rows(JOBS_SQL)
        return [ErpJob(_text(job), _text(description)) for job, description in rows]

    def list_job_codes(self, job: str) -> list[tuple[str, str, list[str]]]:
        if job not in {j.number for j in self.fetch_jobs()}:
            raise ErpError(no_such_job(job))
        _columns, codes = self._rows(JOB_COST_CODES_SQL)
        _columns, categories = self._rows(JOB_CATEGORIES_SQL)
        types: dict[str, list[str]] = {}
        for row_job, code, category in categories:
            if _text(row_job) == job:
                types.setdefault(_text(code), []).append(_text(category))
        listed = [(_text(code), _text(d)) for row_job, code, d in codes if _text(row_job) == job]
        return sorted(
            ((c, d, types.get(c, [])) for c, d in listed), key=lambda row: formats.code_order_key(row[0])
        )

    def fetch_job_cost_codes(
        self, job_numbers: Sequence[str]
    ) -> dict[str, list[ErpJobCostCode] | ErpError]:
        """Each job's cost codes (JCM_MASTER__COST_CODE) with their categories
        (JCM_MASTER__CATEGORY), each table read once for every job."""
        jobs = {job.number for job in self.fetch_jobs()}
        wanted = set(job_numbers) & jobs
        _columns, code_rows = self._rows(JOB_COST_CODES_SQL)
        _columns, category_rows = self._rows(JOB_CATEGORIES_SQL)
        categories: dict[tuple[str, str], set[str]] = {}
        for row_job, code, category in category_rows:
            if _text(row_job) in wanted:
                categories.setdefault((_text(row_job), _text(code)), set()).add(_text(category))
        codes: dict[str, list[ErpJobCostCode]] = {job: [] for job in wanted}
        for row_job, code, description in code_rows:
            job = _text(row_job)
            if job in wanted:
                types = tuple(sorted(categories.get((job, _text(code)), ())))
                codes[job].append(ErpJobCostCode(_text(code), _text(description), types))
        return {job: codes[job] if job in wanted else ErpError(no_such_job(job)) for job in job_numbers}

    def has_job(self, number: str) -> bool:
        return number in {job.number for job in self.fetch_jobs()}

    def create_job(self, number: str, name: str) -> ErpJob:
        for job in self.fetch_jobs():
            if job.number == number:
                return job
        raise ErpError(f'Job "{formats.shown(number)}" is not in {SAGE}; set the job up in Job Cost first.')

    def export_note(self) -> str | None:
        return EXPORT_NOTE

    def export_cost_code_lines(self, job_number: str, lines: list[ExportLine]) -> list[LineResult]:
        return [LineResult(line.code, line.cost_type, "failed", NO_WRITING) for line in lines]

    def export_commitment(self, job_number: str, commitment: CommitmentExport) -> CommitmentResult:
        return CommitmentResult(commitment.number, "failed", f"Enter the commitment in {SAGE}.")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def no_such_job(number: str) -> str:
    return f'Job "{formats.shown(number)}" does not exist in {SAGE}; create the job first.'


def timberline_query(dsn: str, user: str, password: str) -> Query:
    """Queries over the Timberline ODBC driver: StandardMode for the JCM_MASTER__ tables, a
    second connection in DictionaryMode for TS_CTL_RECORD_3 (sage_facts b5)."""
    try:
        import pyodbc  # the optional extra [sage300]
    except ImportError as error:
        raise ErpError(
            "The Sage 300 CRE ODBC reader needs pyodbc: install the portal with the [sage300] extra."
        ) from error

    def query(sql: str, dictionary: bool) -> tuple[list[str], list[Sequence[Any]]]:
        mode = "DictionaryMode=1" if dictionary else "StandardMode=1"
        with pyodbc.connect(f"DSN={dsn};UID={user};PWD={password};{mode}", readonly=True) as connection:
            cursor = connection.cursor().execute(sql)
            return [c[0] for c in cursor.description], cursor.fetchall()

    return query


def engine_query(engine) -> Query:
    """The same SQL over an SQLAlchemy engine (the reference ERP, the tests): sent to the driver
    as written, dictionary mode or not."""

    def query(sql: str, _dictionary: bool) -> tuple[list[str], list[Sequence[Any]]]:
        with engine.connect() as connection:
            result = connection.exec_driver_sql(sql)
            return list(result.keys()), result.all()

    return query
