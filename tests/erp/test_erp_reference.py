import pytest
import sqlalchemy as sa

from portal.erp.base import CommitmentExport, ErpError, ErpJob, ExportLine
from portal.erp.formats import CostCodeFormatError
from portal.erp.reference import ReferenceErp


def outcomes(results):
    return [result.outcome for result in results]


def test_tables_are_created_on_first_use(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    erp = ReferenceErp(url)
    erp.ensure_company("acme", "sage100c")
    erp.dispose()
    assert "erp_job_cost_codes" in sa.inspect(sa.create_engine(url)).get_table_names()


def test_new_code_is_created_with_the_portal_description(sage100_erp):
    connector = sage100_erp.connector("acme")
    results = connector.export_cost_code_lines("1001", [ExportLine("2010", "Site Work", "1")])
    assert outcomes(results) == ["created"]
    assert results[0].code == "2010.000"
    assert sage100_erp.list_job_codes("acme", "1001") == [("2010.000", "Site Work", ["1"])]


def test_rule_4_export_never_overwrites_description(sage100_erp):
    connector = sage100_erp.connector("acme")
    connector.export_cost_code_lines("1001", [ExportLine("2010", "Site Work", "1")])
    results = connector.export_cost_code_lines("1001", [ExportLine("2010.000", "Sitework", "1")])
    assert outcomes(results) == ["description_kept"]
    assert 'Kept the ERP description "Site Work" (portal had "Sitework")' in results[0].message
    assert sage100_erp.list_job_codes("acme", "1001") == [("2010.000", "Site Work", ["1"])]


def test_export_adds_cost_type_to_existing_code(sage100_erp):
    connector = sage100_erp.connector("acme")
    connector.export_cost_code_lines("1001", [ExportLine("2010", "Site Work", "1")])
    results = connector.export_cost_code_lines("1001", [ExportLine("2010", "Site Work", "2")])
    assert outcomes(results) == ["merged_cost_type"]
    assert sage100_erp.list_job_codes("acme", "1001") == [("2010.000", "Site Work", ["1", "2"])]


def test_kept_description_still_adds_the_new_cost_type(sage100_erp):
    connector = sage100_erp.connector("acme")
    connector.export_cost_code_lines("1001", [ExportLine("2010", "Site Work", "1")])
    results = connector.export_cost_code_lines("1001", [ExportLine("2010", "Sitework", "3")])
    assert outcomes(results) == ["description_kept"]
    assert "added cost type 3" in results[0].message
    assert sage100_erp.list_job_codes("acme", "1001") == [("2010.000", "Site Work", ["1", "3"])]


def test_repeated_export_creates_nothing_twice(sage100_erp):
    connector = sage100_erp.connector("acme")
    lines = [ExportLine("2010", "Site Work", "1"), ExportLine("2010", "Site Work", "2")]
    assert outcomes(connector.export_cost_code_lines("1001", lines)) == [
        "created",
        "merged_cost_type",
    ]
    before = sage100_erp.list_job_codes("acme", "1001")
    assert outcomes(connector.export_cost_code_lines("1001", lines)) == [
        "unchanged",
        "unchanged",
    ]
    assert sage100_erp.list_job_codes("acme", "1001") == before


def test_export_to_unknown_job_fails_each_line(sage100_erp):
    lines = [ExportLine("2010", "Site Work", "1"), ExportLine("3000", "Concrete", "4")]
    results = sage100_erp.connector("acme").export_cost_code_lines("9999", lines)
    assert outcomes(results) == ["failed", "failed"]
    assert all('Job "9999" does not exist' in result.message for result in results)


def test_bad_code_fails_only_that_line(sage300_erp):
    lines = [
        ExportLine("03-310", "Concrete Forms", "LAB"),
        ExportLine("03_320", "Rebar", "LAB"),
        ExportLine("03-330", "Cast in Place", "mat"),
    ]
    results = sage300_erp.connector("beta").export_cost_code_lines("24-001", lines)
    assert outcomes(results) == ["created", "failed", "created"]
    assert '"03_320" uses "_" as a delimiter' in results[1].message
    assert [code for code, _, _ in sage300_erp.list_job_codes("beta", "24-001")] == [
        "03-310",
        "03-330",
    ]


def test_rule_8_unknown_cost_type_fails_that_line(sage100_erp):
    results = sage100_erp.connector("acme").export_cost_code_lines(
        "1001", [ExportLine("2010", "Site Work", "8"), ExportLine("2020", "Demo", "2")]
    )
    assert outcomes(results) == ["failed", "created"]
    assert 'Cost type "8" does not exist' in results[0].message


def test_rule_8_oversize_description_fails_that_line(sage100_erp):
    results = sage100_erp.connector("acme").export_cost_code_lines(
        "1001", [ExportLine("2010", "x" * 51, "1")]
    )
    assert outcomes(results) == ["failed"]
    assert "at most 50" in results[0].message


def test_companies_are_kept_apart(sage100_erp):
    sage100_erp.ensure_company("other", "sage100c")
    sage100_erp.add_job("other", "1001", "Other job")
    sage100_erp.connector("acme").export_cost_code_lines("1001", [ExportLine("2010", "A", "1")])
    assert sage100_erp.list_job_codes("other", "1001") == []


def test_unknown_company_is_a_connector_error(erp):
    with pytest.raises(ErpError, match='no company "ghost"'):
        erp.connector("ghost").fetch_jobs()


def test_company_keeps_its_erp_system(sage100_erp):
    sage100_erp.ensure_company("acme", "sage100c")
    with pytest.raises(ErpError, match="uses Sage 100 Contractor"):
        sage100_erp.ensure_company("acme", "sage300cre")


def test_standard_codes_are_validated_and_fetched(sage300_erp):
    sage300_erp.add_standard_cost_code("beta", "03-310", "Concrete Forms")
    with pytest.raises(CostCodeFormatError):
        sage300_erp.add_standard_cost_code("beta", "03 310", "Concrete Forms")
    codes = sage300_erp.connector("beta").fetch_standard_cost_codes()
    assert [(c.code, c.description, c.division) for c in codes] == [
        ("03-310", "Concrete Forms", "03")
    ]


def test_new_companies_start_with_their_erp_cost_types(sage100_erp, sage300_erp):
    assert [t.code for t in sage100_erp.connector("acme").fetch_cost_types()] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    assert "LAB" in [t.code for t in sage300_erp.connector("beta").fetch_cost_types()]
    sage300_erp.add_cost_type("beta", "ovh", "Overhead")
    assert "OVH" in [t.code for t in sage300_erp.connector("beta").fetch_cost_types()]


def test_create_job_is_idempotent_and_keeps_the_erp_name(sage100_erp):
    connector = sage100_erp.connector("acme")
    assert connector.create_job("1002", "Harbor") == ErpJob("1002", "Harbor")
    assert connector.create_job("1002", "Renamed") == ErpJob("1002", "Harbor")
    assert [job.number for job in connector.fetch_jobs()] == ["1001", "1002"]


def test_commitments_are_idempotent(sage100_erp):
    connector = sage100_erp.connector("acme")
    contract = CommitmentExport("SC-1", "Concrete", "contract", 125_000_00)
    change = CommitmentExport("CO-1", "Extra rebar", "change_order", 5_000_00, "SC-1")
    assert connector.export_commitment("1001", contract).outcome == "created"
    assert connector.export_commitment("1001", change).outcome == "created"
    assert connector.export_commitment("1001", contract).outcome == "unchanged"
    assert connector.export_commitment("1001", change).outcome == "unchanged"


def test_change_order_needs_its_contract(sage100_erp):
    change = CommitmentExport("CO-1", "Extra rebar", "change_order", 5_000_00, "SC-9")
    result = sage100_erp.connector("acme").export_commitment("1001", change)
    assert result.outcome == "failed"
    assert "export the contract first" in result.message


def test_commitment_to_unknown_job_fails(sage100_erp):
    contract = CommitmentExport("SC-1", "Concrete", "contract", 100)
    result = sage100_erp.connector("acme").export_commitment("9999", contract)
    assert result.outcome == "failed"
    assert 'Job "9999"' in result.message


def test_changed_commitment_is_not_overwritten(sage100_erp):
    connector = sage100_erp.connector("acme")
    connector.export_commitment("1001", CommitmentExport("SC-1", "Concrete", "contract", 100))
    result = connector.export_commitment(
        "1001", CommitmentExport("SC-1", "Concrete", "contract", 200)
    )
    assert result.outcome == "failed"
    assert "different details" in result.message


def test_two_connectors_on_one_database_see_each_other(sage100_erp):
    second = ReferenceErp(sage100_erp.url)
    try:
        first_results = sage100_erp.connector("acme").export_cost_code_lines(
            "1001", [ExportLine("2010", "Site Work", "1")]
        )
        second_results = second.connector("acme").export_cost_code_lines(
            "1001", [ExportLine("2010", "Site Work", "1")]
        )
    finally:
        second.dispose()
    assert outcomes(first_results + second_results) == ["created", "unchanged"]


def test_one_export_serves_several_jobs_and_an_unknown_job_fails_alone(sage100_erp):
    sage100_erp.add_job("acme", "1002", "Harbor Clinic")
    results = sage100_erp.connector("acme").export_job_cost_codes({
        "1001": [ExportLine("2010", "Site Work", "1"), ExportLine("3000", "Concrete", "4")],
        "9999": [ExportLine("2010", "Site Work", "1")],
        "1002": [ExportLine("2010", "Site Work", "2")],
    })
    assert {job: outcomes(answer) for job, answer in results.items()} == {
        "1001": ["created", "created"],
        "9999": ["failed"],
        "1002": ["created"],
    }
    assert 'Job "9999" does not exist' in results["9999"][0].message
    assert sage100_erp.list_job_codes("acme", "1001") == [
        ("2010.000", "Site Work", ["1"]),
        ("3000.000", "Concrete", ["4"]),
    ]
    # The same code on another job is that job's own, with its own cost types.
    assert sage100_erp.list_job_codes("acme", "1002") == [("2010.000", "Site Work", ["2"])]


def test_reference_erp_refuses_a_sage300_category_description_over_30(sage300_erp):
    with pytest.raises(ValueError, match="at most 30"):
        sage300_erp.add_cost_type("beta", "OVH", "Overhead and general conditions costs")
