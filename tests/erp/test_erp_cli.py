import pytest
from flask import Flask

from portal.erp.cli import erp_cli


@pytest.fixture
def run(tmp_path):
    app = Flask(__name__)
    app.config["ERP_DATABASE_URL"] = f"sqlite:///{tmp_path / 'erp.sqlite3'}"
    app.cli.add_command(erp_cli)
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["erp", *args])

    assert invoke("add-company", "acme", "--erp", "sage100c").exit_code == 0
    return invoke


def test_add_cost_code_and_list_codes(run):
    result = run("add-cost-code", "2010", "Site Work", "--company", "acme")
    assert result.exit_code == 0, result.output
    assert "2010.000" in result.output
    listing = run("list-codes", "--company", "acme")
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert lines[0].split() == ["Code", "Description", "Division"]
    assert lines[2].split() == ["2010.000", "Site", "Work", "2000"]


def test_bad_code_prints_the_format_error_and_exits_1(run):
    result = run("add-cost-code", "0100", "Leading zero", "--company", "acme")
    assert result.exit_code == 1
    assert 'Cost code "0100" starts with 0' in result.output
    assert "Traceback" not in result.output


def test_unknown_company_exits_1_with_a_message_naming_the_known_ones(run):
    result = run("add-job", "--company", "ghost", "1001", "Clinic")
    assert result.exit_code == 1
    assert 'no company "ghost"' in result.output
    assert "(companies: acme)" in result.output


def _export(tmp_path, key, job, lines):
    from portal.erp.reference import ReferenceErp

    erp = ReferenceErp(f"sqlite:///{tmp_path / 'erp.sqlite3'}")
    results = erp.connector(key).export_cost_code_lines(job, lines)
    erp.dispose()
    return results


def test_a_sage100_jobs_codes_are_its_budget_lines_which_carry_no_cost_type(run, tmp_path):
    from portal.erp.base import ExportLine

    assert run("add-job", "--company", "acme", "1001", "Clinic").exit_code == 0
    assert run("add-division", "--company", "acme", "2000", "Site Work").exit_code == 0
    _export(tmp_path, "acme", "1001", [ExportLine("2010", "Site Work", "1", "2000"),
                                       ExportLine("2010", "Site Work", "6", "2000")])
    result = run("list-codes", "--company", "acme", "--job", "1001")
    assert result.exit_code == 0, result.output
    assert "budget lines carry no cost type" in result.output
    assert "2010.000  Site Work" in result.output


def test_list_job_codes_of_a_sage300_job_shows_its_categories(run, tmp_path):
    from portal.erp.base import ExportLine

    assert run("add-company", "beta", "--erp", "sage300cre").exit_code == 0
    assert run("add-job", "--company", "beta", "24-001", "Bridge").exit_code == 0
    _export(tmp_path, "beta", "24-001", [ExportLine("01-100", "Site Work", "LAB"),
                                         ExportLine("01-100", "Site Work", "MAT")])
    result = run("list-codes", "--company", "beta", "--job", "24-001")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2].split() == ["01-100", "Site", "Work", "LAB,", "MAT"]


def test_list_codes_of_unknown_job_exits_1(run):
    result = run("list-codes", "--company", "acme", "--job", "42")
    assert result.exit_code == 1
    assert 'Job "42" does not exist' in result.output


def test_bad_cost_type_exits_1(run):
    result = run("add-cost-type", "--company", "acme", "X", "Extra")
    assert result.exit_code == 1
    assert "numbers 1 to 9" in result.output
