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
    erp.ensure_company("beta", "sage300cre")
    erp.dispose()
    assert "erp_companies" in sa.inspect(sa.create_engine(url)).get_table_names()
    sage100 = sa.inspect(sa.create_engine(f"sqlite:///{tmp_path / 'fresh-acme.sqlite3'}")).get_table_names()
    assert {"cstcde", "cstdiv", "csttyp", "actrec", "bdglin"} <= set(sage100)
    sage300 = sa.inspect(sa.create_engine(f"sqlite:///{tmp_path / 'fresh-beta.sqlite3'}")).get_table_names()
    assert {"jcm_master__standard_cost_code", "jcm_master__cost_code", "ts_ctl_record_3"} <= set(sage300)


def test_new_code_is_created_with_the_portal_description(sage100_erp):
    connector = sage100_erp.connector("acme")
    results = connector.export_cost_code_lines("1001", [ExportLine("2010", "Site Work", "1")])
    assert outcomes(results) == ["created"]
    assert results[0].code == "2010.000"
    # A zero-amount budget line: Sage 100 Contractor records no cost type on it.
    assert sage100_erp.list_job_codes("acme", "1001") == [("2010.000", "Site Work", [])]
    assert "the portal records the approved cost type" in results[0].message


def test_rule_4_export_never_overwrites_description(sage100_erp):
    connector = sage100_erp.connector("acme")
    connector.export_cost_code_lines("1001", [ExportLine("2010", "Site Work", "1")])
    results = connector.export_cost_code_lines("1001", [ExportLine("2010.000", "Sitework", "1")])
    assert outcomes(results) == ["description_kept"]
    assert 'Kept the ERP description "Site Work" (portal had "Sitework")' in results[0].message
    assert sage100_erp.list_job_codes("acme", "1001") == [("2010.000", "Site Work", [])]


def test_a_second_cost_type_of_a_sage100_code_uses_the_jobs_one_budget_line(sage100_erp):
    connector = sage100_erp.connector("acme")
    connector.export_cost_code_lines("1001", [ExportLine("2010", "Site Work", "1")])
    results = connector.export_cost_code_lines("1001", [ExportLine("2010", "Site Work", "2")])
    assert outcomes(results) == ["unchanged"]
    assert "keeps no cost type on a budget line" in results[0].message
    assert sage100_erp.list_job_codes("acme", "1001") == [("2010.000", "Site Work", [])]


def test_export_adds_cost_type_to_existing_code_of_a_sage300_job(sage300_erp):
    connector = sage300_erp.connector("beta")
    connector.export_cost_code_lines("24-001", [ExportLine("01-100", "Site Work", "LAB")])
    results = connector.export_cost_code_lines("24-001", [ExportLine("01-100", "Site Work", "MAT")])
    assert outcomes(results) == ["merged_cost_type"]
    assert sage300_erp.list_job_codes("beta", "24-001") == [("01-100", "Site Work", ["LAB", "MAT"])]


def test_kept_description_still_adds_the_new_cost_type(sage300_erp):
    connector = sage300_erp.connector("beta")
    connector.export_cost_code_lines("24-001", [ExportLine("01-100", "Site Work", "LAB")])
    results = connector.export_cost_code_lines("24-001", [ExportLine("01-100", "Sitework", "EQP")])
    assert outcomes(results) == ["description_kept"]
    assert "added cost type EQP" in results[0].message
    assert sage300_erp.list_job_codes("beta", "24-001") == [("01-100", "Site Work", ["EQP", "LAB"])]


def test_repeated_export_creates_nothing_twice(sage100_erp):
    connector = sage100_erp.connector("acme")
    lines = [ExportLine("2010", "Site Work", "1"), ExportLine("2010", "Site Work", "2")]
    assert outcomes(connector.export_cost_code_lines("1001", lines)) == [
        "created",
        "merged_cost_type",
    ]  # one budget line: the second cost type shares it
    before = sage100_erp.list_job_codes("acme", "1001")
    assert outcomes(connector.export_cost_code_lines("1001", lines)) == [
        "unchanged",
        "unchanged",
    ]
    assert sage100_erp.list_job_codes("acme", "1001") == before


def test_export_to_unknown_job_fails_each_line(sage100_erp):
    lines = [ExportLine("2010", "Site Work", "1"), ExportLine("3000", "Concrete", "4")]
    results = sage100_erp.connector("acme").export_cost_code_lines("9999", lines)
    # Failed, for a reason the portal can act on: the job is missing (Link or Create on the row).
    assert outcomes(results) == ["no_job", "no_job"]
    assert all('Job "9999" does not exist' in result.message for result in results)


def test_bad_code_fails_only_that_line(sage300_erp):
    lines = [
        ExportLine("03-310", "Concrete Forms", "LAB"),
        ExportLine("03_320", "Rebar", "LAB"),
        ExportLine("03-330", "Cast in Place", "mat"),
    ]
    results = sage300_erp.connector("beta").export_cost_code_lines("24-001", lines)
    assert outcomes(results) == ["created", "failed", "created"]
    # The reference ERP refuses what its own mask (99-999) refuses, naming the code and the mask.
    assert results[1].message.startswith('Cost code "03_320" does not fit 99-999; it contains "_"')
    assert [code for code, _, _ in sage300_erp.list_job_codes("beta", "24-001")] == [
        "03-310",
        "03-330",
    ]


def test_rule_8_unknown_cost_type_fails_that_line(sage300_erp):
    # Every Sage 100 Contractor company has all nine cost types; a Sage 300 CRE category may be missing.
    results = sage300_erp.connector("beta").export_cost_code_lines(
        "24-001", [ExportLine("01-100", "Site Work", "ZZ"), ExportLine("01-200", "Demo", "LAB")]
    )
    assert outcomes(results) == ["failed", "created"]
    assert 'Cost type "ZZ" does not exist' in results[0].message


def test_a_new_sage100_code_needs_its_division_in_sage(sage100_erp):
    results = sage100_erp.connector("acme").export_cost_code_lines(
        "1001", [ExportLine("7010", "Thermal", "1", "7000"), ExportLine("2010", "Site Work", "1", "2000")]
    )
    assert outcomes(results) == ["failed", "created"]
    assert 'division "7000", which Sage 100 Contractor does not have' in results[0].message


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
    # Sage 300 CRE keeps no division column: the sync takes a code's first section.
    assert [(c.code, c.description, c.division) for c in codes] == [("03-310", "Concrete Forms", "")]


def test_new_companies_start_with_their_erp_cost_types(sage100_erp, sage300_erp):
    sage100_types = sage100_erp.connector("acme").fetch_cost_types()
    assert [t.code for t in sage100_types] == list("123456789")
    assert [t.name for t in sage100_types][:5] == ["Material", "Labor", "Equipment", "Subcontract", "Other"]
    assert sage100_types[5].name == "User Def Type 6"
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
        "9999": ["no_job"],
        "1002": ["created"],
    }
    assert 'Job "9999" does not exist' in results["9999"][0].message
    assert [code for code, _, _ in sage100_erp.list_job_codes("acme", "1001")] == ["2010.000", "3000.000"]
    # The same code on another job is a budget line of that job.
    assert sage100_erp.list_job_codes("acme", "1002") == [("2010.000", "Site Work", [])]


def test_reference_erp_refuses_a_sage300_category_description_over_30(sage300_erp):
    with pytest.raises(ValueError, match="at most 30"):
        sage300_erp.add_cost_type("beta", "OVH", "Overhead and general conditions costs")
