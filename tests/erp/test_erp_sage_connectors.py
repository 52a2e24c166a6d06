"""The Sage 100 Contractor database connector and the Sage 300 CRE ODBC reader, run with their own
SQL against same-named tables on SQLite (and on PostgreSQL with PORTAL_TEST_DB=postgresql)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from portal.erp import reference_sage300 as s300
from portal.erp import sage100_database as s100
from portal.erp.base import ErpError, ExportLine
from portal.erp.reference import ReferenceErp
from portal.erp.sage300_odbc import Sage300OdbcConnector, engine_query
from tests.helpers import BACKEND, POSTGRES_SERVER, postgres_admin

BACKENDS = ["sqlite", "postgresql"] if BACKEND == "postgresql" else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sage.sqlite'}"
        return
    name = f"ccp_erp_{uuid.uuid4().hex[:12]}"
    admin = postgres_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield f"{POSTGRES_SERVER}/{name}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


# -- Sage 300 CRE ------------------------------------------------------------------------------------


@pytest.fixture
def timberline(database_url):
    """A Sage 300 CRE company's tables as the Timberline driver shows them, with a standard
    category table that has no Description column (no source documents one)."""
    engine = sa.create_engine(database_url)
    tables = [t for t in s300.metadata.sorted_tables if t.name != "jcm_master__standard_category"]
    s300.metadata.create_all(engine, tables=tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE jcm_master__standard_category (category VARCHAR(3), accumulate_as VARCHAR(20))"
        )
        conn.exec_driver_sql(
            "INSERT INTO jcm_master__standard_category VALUES ('LAB', 'Labor'), ('MAT', 'Material')"
        )
        conn.execute(
            s300.ts_ctl_record_3.insert(),
            [
                {"fldcode": 18, "section": 1, "cslen": 2, "cnpunct": "-"},
                {"fldcode": 18, "section": 2, "cslen": 3, "cnpunct": " "},
                {"fldcode": 16, "section": 1, "cslen": 6, "cnpunct": "-"},  # the job number format
            ],
        )
        conn.execute(
            s300.standard_cost_codes.insert(),
            [
                {"cost_code": "01-100", "description": "General Conditions "},
                {"cost_code": "03-310", "description": "Concrete Forms"},
            ],
        )
        conn.execute(
            s300.jobs.insert(), [{"job": "24-001", "description": "Harbor Bridge", "status": "In progress"}]
        )
    yield Sage300OdbcConnector(engine_query(engine))
    engine.dispose()


def test_the_sage300_reader_reads_the_cost_code_mask_from_the_control_record(timberline):
    assert timberline.fetch_cost_code_mask() == "99-999"


def test_the_sage300_reader_reads_standard_codes_categories_and_jobs(timberline):
    assert [(c.code, c.description) for c in timberline.fetch_standard_cost_codes()] == [
        ("01-100", "General Conditions"),
        ("03-310", "Concrete Forms"),
    ]
    # No Description column on standard categories: a category is named by its code.
    assert [(t.code, t.name) for t in timberline.fetch_cost_types()] == [("LAB", "LAB"), ("MAT", "MAT")]
    assert [(j.number, j.name) for j in timberline.fetch_jobs()] == [("24-001", "Harbor Bridge")]


def test_sage300_takes_no_cost_codes_from_outside_and_each_line_says_what_to_do(timberline):
    results = timberline.export_cost_code_lines("24-001", [ExportLine("01-100", "General Conditions", "LAB")])
    assert [r.outcome for r in results] == ["failed"]
    assert "add the code with its category to the job in Job Cost" in results[0].message
    assert "takes no cost codes from outside" in timberline.export_note()


def test_a_sage300_table_the_reader_cannot_read_is_an_erp_error_naming_it(database_url):
    engine = sa.create_engine(database_url)
    try:
        with pytest.raises(ErpError, match="JCM_MASTER__JOB"):
            Sage300OdbcConnector(engine_query(engine)).fetch_jobs()
    finally:
        engine.dispose()


# -- Sage 100 Contractor -----------------------------------------------------------------------------


@pytest.fixture
def sage100_database(database_url):
    """A Sage 100 Contractor company database, with one job, one division and the nine cost types."""
    engine = sa.create_engine(database_url)
    s100.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            s100.csttyp.insert(), [{"recnum": n, "typnme": t} for n, t in s100.COST_TYPE_NAMES.items()]
        )
        conn.execute(s100.cstdiv.insert().values(recnum=2000, divnme="Site Work"))
        conn.execute(s100.cstcde.insert().values(recnum=2010, cdenme="Site Clearing", divnum=2000))
        conn.execute(s100.actrec.insert().values(recnum=1001, jobnme="Clinic", status=4))
    yield database_url, engine
    engine.dispose()


def budget_lines(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(s100.bdglin.c.recnum, s100.bdglin.c.cstcde, s100.bdglin.c.matbdg)).all()


def test_writing_to_a_sage100_database_is_off_until_allowed(sage100_database):
    url, engine = sage100_database
    connector = s100.Sage100DatabaseConnector(url)
    results = connector.export_cost_code_lines("1001", [ExportLine("2010", "Site Clearing", "1", "2000")])
    assert [r.outcome for r in results] == ["failed"]
    assert "Writing to the Sage 100 Contractor database is off" in results[0].message
    assert "6-2 Budgets" in results[0].message
    with pytest.raises(ErpError, match="3-5 Jobs"):
        connector.create_job("1002", "New job")
    assert budget_lines(engine) == []
    connector.dispose()


def test_an_allowed_export_adds_one_zero_amount_budget_line_per_job_and_code(sage100_database):
    url, engine = sage100_database
    connector = s100.Sage100DatabaseConnector(url, writes_enabled=True)
    results = connector.export_cost_code_lines(
        "1001",
        [ExportLine("2010", "Site Clearing", "1", "2000"), ExportLine("2010", "Site Clearing", "2", "2000")],
    )
    assert [r.outcome for r in results] == ["created", "merged_cost_type"]
    assert [(job, f"{code:.3f}", amount) for job, code, amount in budget_lines(engine)] == [
        (1001, "2010.000", 0)
    ]
    connector.dispose()


def test_the_sage100_reader_reads_what_the_published_tables_hold(sage100_database):
    url, _engine = sage100_database
    connector = s100.Sage100DatabaseConnector(url)
    assert [(c.code, c.description, c.division) for c in connector.fetch_standard_cost_codes()] == [
        ("2010.000", "Site Clearing", "2000")
    ]
    assert [(d.number, d.name) for d in connector.fetch_divisions()] == [("2000", "Site Work")]
    assert len(connector.fetch_cost_types()) == 9
    assert [(j.number, j.name) for j in connector.fetch_jobs()] == [("1001", "Clinic")]
    connector.dispose()


def test_a_sage100_database_that_cannot_be_read_is_an_erp_error_with_the_drivers_words(tmp_path):
    connector = s100.Sage100DatabaseConnector(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    with pytest.raises(ErpError, match="no such table: csttyp"):
        connector.fetch_cost_types()
    connector.dispose()


# -- The reference ERP ---------------------------------------------------------------------------------


def test_the_reference_erp_runs_on_this_database(database_url):
    erp = ReferenceErp(database_url)
    try:
        erp.ensure_company("acme", "sage100c")
        erp.add_standard_cost_code("acme", "2010", "Site Work", "2000", division_name="Site Work")
        erp.add_job("acme", "1001", "Clinic")
        results = erp.connector("acme").export_cost_code_lines("1001", [ExportLine("2010", "Site Work", "1")])
        assert [r.outcome for r in results] == ["created"]
        assert erp.list_job_codes("acme", "1001") == [("2010.000", "Site Work", [])]
        erp.ensure_company("beta", "sage300cre")
        erp.add_job("beta", "24-001", "Bridge")
        erp.connector("beta").export_cost_code_lines("24-001", [ExportLine("01-100", "Site Work", "LAB")])
        assert erp.list_job_codes("beta", "24-001") == [("01-100", "Site Work", ["LAB"])]
        assert erp.connector("beta").fetch_cost_code_mask() == "99-999"
    finally:
        erp.dispose()


def test_a_reference_erp_in_the_layout_before_issue_15_is_copied_into_sages_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'erp.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in [
            "CREATE TABLE erp_companies (key VARCHAR(100) PRIMARY KEY, erp_system VARCHAR(20))",
            "CREATE TABLE erp_cost_types (company VARCHAR, code VARCHAR, name VARCHAR)",
            "CREATE TABLE erp_standard_cost_codes (company VARCHAR, code VARCHAR, description VARCHAR, "
            "division VARCHAR, active BOOLEAN)",
            "CREATE TABLE erp_jobs (company VARCHAR, number VARCHAR, name VARCHAR)",
            "CREATE TABLE erp_job_cost_codes (company VARCHAR, job VARCHAR, code VARCHAR, "
            "description VARCHAR, "
            "division VARCHAR)",
            "CREATE TABLE erp_job_cost_code_types (company VARCHAR, job VARCHAR, code VARCHAR, "
            "cost_type VARCHAR)",
            "CREATE TABLE erp_commitments (company VARCHAR, job VARCHAR, number VARCHAR, kind VARCHAR, "
            "title VARCHAR, amount_cents BIGINT, parent VARCHAR)",
            "INSERT INTO erp_companies VALUES ('acme', 'sage100c')",
            "INSERT INTO erp_cost_types VALUES ('acme', '1', 'Material')",
            "INSERT INTO erp_standard_cost_codes VALUES ('acme', '2010.000', 'Site Work', '2000', 1)",
            "INSERT INTO erp_jobs VALUES ('acme', '1001', 'Clinic')",
            "INSERT INTO erp_job_cost_codes VALUES ('acme', '1001', '2010.000', 'Site Work', '2000')",
            "INSERT INTO erp_job_cost_code_types VALUES ('acme', '1001', '2010.000', '1')",
            "INSERT INTO erp_commitments VALUES ('acme', '1001', 'SC-1', 'contract', 'Concrete', 100, NULL)",
        ]:
            conn.exec_driver_sql(statement)
    engine.dispose()
    erp = ReferenceErp(url)
    try:
        assert [c.code for c in erp.list_standard_codes("acme")] == ["2010.000"]
        assert erp.list_job_codes("acme", "1001") == [("2010.000", "Site Work", [])]
        assert "had the layout from before issue 15" in erp.migration_note
        assert "1 cost codes, 1 jobs, 1 job cost code lines and 1 commitments" in erp.migration_note
        contract = erp.connector("acme").export_commitment
        from portal.erp.base import CommitmentExport

        assert contract("1001", CommitmentExport("SC-1", "Concrete", "contract", 100)).outcome == "unchanged"
    finally:
        erp.dispose()
    assert "erp_standard_cost_codes" not in sa.inspect(sa.create_engine(url)).get_table_names()
