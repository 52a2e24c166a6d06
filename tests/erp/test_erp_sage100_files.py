import contextlib
import json
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.erp.base import CommitmentExport, ErpError, ExportLine
from portal.erp.sage100_files import Sage100FileConnector
from portal.erp.sage100_inbox import read_cost_code_file

WHEN = datetime(2026, 11, 22, 9, 30)


def read_tab(path):
    return [row.split("\t") for row in path.read_bytes().decode("cp1252").split("\r\n") if row]


@pytest.fixture
def connector(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "cost_codes.txt").write_bytes(
        b"Cost Code#\tDescription\tUnit\tDivision\r\n2010\tSite Work\t\t2000\r\n"
    )
    (inbox / "divisions.txt").write_bytes(b"2000\tSite Work\r\n3000\tConcrete\r\n")
    return Sage100FileConnector(inbox, tmp_path / "outbox", clock=lambda: WHEN)


def test_reads_tab_separated_list_with_header():
    result = read_cost_code_file(
        b"Cost Code#\tDescription\tUnit\tDivision\n2010\tSite Work\tLS\t2000\n3100\tConcrete\n"
    )
    assert [(c.code, c.description, c.division) for c in result.codes] == [
        ("2010.000", "Site Work", "2000"),
        ("3100.000", "Concrete", ""),  # no division in the file: none guessed from 3100
    ]
    assert result.errors == []


def test_reads_comma_separated_cp1252_with_quoted_commas():
    data = '2010,"Demolition, interior",LS,2000\n2020,Caf\u00e9 fit-out\n'.encode("cp1252")
    result = read_cost_code_file(data)
    assert [c.description for c in result.codes] == [
        "Demolition, interior",
        "Caf\u00e9 fit-out",
    ]


def test_reads_utf8_with_bom():
    result = read_cost_code_file("\ufeff2010,Caf\u00e9\n".encode())
    assert [c.description for c in result.codes] == ["Caf\u00e9"]


def test_bad_rows_are_reported_and_good_ones_kept():
    data = b"2010,Site Work\n0100,Leading zero\n2010,Again\n3000,Concrete\nlonely\n"
    result = read_cost_code_file(data)
    assert [c.code for c in result.codes] == ["2010.000", "3000.000"]
    assert len(result.errors) == 3
    assert result.errors[0].startswith('Row 2: Cost code "0100" starts with 0')
    assert "Row 3" in result.errors[1] and "repeats row 1" in result.errors[1]
    assert 'Row 5 (cost code "lonely") has 1 column' in result.errors[2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b" \r\n\r\n", "is empty"),
        (b"Cost Code#,Description\n", "header row but no cost codes"),
        (b"1,2,3,4,5,6,7,8,9\n7,8,9,10,11,12,13,14,15\n", "expected columns"),
        (b"just one column\nand another\n", "expected columns"),
        (b"2010,Site \x81Work\n", "neither UTF-8 nor Windows-1252"),
        ("2010\tSite Work\n".encode("utf-16"), "NUL bytes"),
        (b"2010,Site\x00Work\n", "NUL bytes"),
        (b"\x89PNG\r\n\x1a\n\x05\x06", "binary data"),
    ],
)
def test_broken_files_raise_erp_error_with_a_clear_message(data, message):
    with pytest.raises(ErpError, match=message):
        read_cost_code_file(data)


@given(data=st.binary())
def test_any_bytes_give_a_result_or_an_erp_error(data):
    try:
        result = read_cost_code_file(data)
    except ErpError as error:
        assert str(error)
    else:
        assert isinstance(result.codes, list) and isinstance(result.errors, list)


@given(rows=st.lists(st.lists(st.text(alphabet='0123456789.,\t "A'), max_size=6), max_size=6))
def test_any_delimited_text_gives_a_result_or_an_erp_error(rows):
    data = "\n".join(",".join(cells) for cells in rows).encode()
    with contextlib.suppress(ErpError):
        read_cost_code_file(data)


def test_export_writes_new_codes_to_the_run_file(connector, tmp_path):
    results = connector.export_cost_code_lines(
        "1001",
        [ExportLine("3100", "Concrete", "1", "3000"), ExportLine("3100", "Concrete", "2", "3000")],
    )
    assert [r.outcome for r in results] == ["created", "created"]
    assert results[0].message.startswith(
        "Written to costcodes-20261122-0001.tab: import it in 6-5 Cost Codes (File > Open), "
    )
    rows = read_tab(tmp_path / "outbox" / "costcodes-20261122-0001.tab")
    assert [row[0] for row in rows] == ["3100.000"]


def test_repeated_export_writes_nothing_twice(connector, tmp_path):
    line = ExportLine("3100", "Concrete", "1", "3000")
    connector.export_cost_code_lines("1001", [line])
    again = Sage100FileConnector(tmp_path / "inbox", tmp_path / "outbox", clock=lambda: WHEN)
    results = again.export_cost_code_lines("1001", [line])
    assert [r.outcome for r in results] == ["unchanged"]
    tab_files = sorted(p.name for p in (tmp_path / "outbox").glob("*.tab"))
    assert tab_files == ["costcodes-20261122-0001.tab"]
    assert len(read_tab(tmp_path / "outbox" / tab_files[0])) == 1


def test_each_sync_run_gets_its_own_file(connector, tmp_path):
    connector.export_cost_code_lines("1001", [ExportLine("3100", "Concrete", "1", "3000")])
    connector.export_cost_code_lines("1001", [ExportLine("3200", "Rebar", "1", "3000")])
    later = Sage100FileConnector(tmp_path / "inbox", tmp_path / "outbox", clock=lambda: WHEN)
    later.export_cost_code_lines("1001", [ExportLine("3300", "Forms", "1", "3000")])
    first = read_tab(tmp_path / "outbox" / "costcodes-20261122-0001.tab")
    second = read_tab(tmp_path / "outbox" / "costcodes-20261122-0002.tab")
    assert [row[0] for row in first] == ["3100.000", "3200.000"]
    assert [row[0] for row in second] == ["3300.000"]


def test_export_never_overwrites_a_description_sage_has(connector, tmp_path):
    results = connector.export_cost_code_lines("1001", [ExportLine("2010", "Sitework", "1")])
    assert [r.outcome for r in results] == ["description_kept"]
    assert 'Kept the ERP description "Site Work"' in results[0].message
    assert list((tmp_path / "outbox").glob("*.tab")) == []


def test_bad_line_fails_alone(connector):
    results = connector.export_cost_code_lines(
        "1001", [ExportLine("0100", "Bad", "1", "3000"), ExportLine("3100", "Concrete", "1", "3000")]
    )
    assert [r.outcome for r in results] == ["failed", "created"]
    assert "starts with 0" in results[0].message


def test_unknown_job_fails_each_line_when_a_job_list_exists(connector, tmp_path):
    (tmp_path / "inbox" / "jobs.txt").write_text("Job,Name\n1001,Main Street Clinic\n")
    results = connector.export_cost_code_lines("9999", [ExportLine("3100", "Concrete", "1", "3000")])
    assert [r.outcome for r in results] == ["no_job"]
    assert 'Job "9999" does not exist' in results[0].message
    assert [job.number for job in connector.fetch_jobs()] == ["1001"]


def test_fetches_raw_codes_and_standard_cost_types(connector):
    assert [c.code for c in connector.fetch_standard_cost_codes()] == ["2010"]
    assert [t.name for t in connector.fetch_cost_types()] == [
        "Material",
        "Labor",
        "Equipment",
        "Subcontract",
        "Other",
    ]


def test_missing_cost_code_list_is_an_erp_error(tmp_path):
    with pytest.raises(ErpError, match="no cost code list") as caught:
        Sage100FileConnector(tmp_path, tmp_path / "out").fetch_standard_cost_codes()
    # The inbox list is the portal's own format: Sage documents no export of it.
    assert "the portal's own format, since Sage documents no export" in str(caught.value)


def test_damaged_ledger_is_an_erp_error(connector, tmp_path):
    (tmp_path / "outbox").mkdir()
    (tmp_path / "outbox" / "export-ledger.json").write_text("{not json")
    with pytest.raises(ErpError, match="ledger"):
        connector.export_cost_code_lines("1001", [ExportLine("3100", "Concrete", "1", "3000")])


def test_ledger_is_json(connector, tmp_path):
    connector.export_cost_code_lines("1001", [ExportLine("3100", "Concrete", "1", "3000")])
    ledger = json.loads((tmp_path / "outbox" / "export-ledger.json").read_text())
    assert ledger["last_run"] == 1


def test_commitments_are_refused_with_a_message(connector):
    result = connector.export_commitment(
        "1001", CommitmentExport("SC-1", "Concrete", "contract", 1)
    )
    assert result.outcome == "failed"
    assert "does not export contracts" in result.message


# --- What Sage 100 Contractor's help documents for the 6-5 import (DESIGN: "writes approved codes as
# the documented 6-5 import ... no header row; divisions first, in their own file; never a line for
# a code Sage already has") ---


def test_import_file_has_no_header_row_and_the_6_5_column_order(connector, tmp_path):
    connector.export_cost_code_lines("1001", [ExportLine("3100", "Concrete", "1", "3000")])
    rows = read_tab(tmp_path / "outbox" / "costcodes-20261122-0001.tab")
    # Cost Code#, Description, Unit, Division, Comp Code1, Wage Max, Comp Code2, Department
    assert rows == [["3100.000", "Concrete", "", "3000", "", "", "", ""]]


@pytest.mark.parametrize(
    ("file_type", "written"),
    [
        ("tab", b"3100.000\tConcrete, cast\t\t3000\t\t\t\t\r\n"),
        ("qte", b'"3100.000","Concrete, cast","","3000","","","",""\r\n'),
    ],
)
def test_import_file_is_of_the_type_the_company_chose(tmp_path, connector, file_type, written):
    chosen = Sage100FileConnector(
        tmp_path / "inbox", tmp_path / "outbox", clock=lambda: WHEN, file_type=file_type
    )
    chosen.export_cost_code_lines("1001", [ExportLine("3100", "Concrete, cast", "1", "3000")])
    path = tmp_path / "outbox" / f"costcodes-20261122-0001.{file_type}"
    assert path.read_bytes() == written


def test_rule_8_comma_file_refuses_a_description_with_a_comma_alone(tmp_path, connector):
    chosen = Sage100FileConnector(
        tmp_path / "inbox", tmp_path / "outbox", clock=lambda: WHEN, file_type="cma"
    )
    results = chosen.export_cost_code_lines(
        "1001", [ExportLine("3100", "Concrete, cast", "1", "3000"), ExportLine("3200", "Rebar", "1", "3000")]
    )
    assert [r.outcome for r in results] == ["failed", "created"]
    assert results[0].message.startswith('Cost code "3100.000": "Concrete, cast" has a comma')
    assert (tmp_path / "outbox" / "costcodes-20261122-0001.cma").read_bytes() == (
        b"3200.000,Rebar,,3000,,,,\r\n"
    )


def test_code_whose_division_sage_lacks_fails_naming_code_and_division(connector):
    results = connector.export_cost_code_lines(
        "1001", [ExportLine("7100", "Roofing", "1", "7000"), ExportLine("3100", "Concrete", "1", "3000")]
    )
    assert [r.outcome for r in results] == ["failed", "created"]
    assert 'Cost code "7100.000" is in division 7000, which Sage 100 Contractor does not have' in (
        results[0].message
    )


def test_divisions_file_is_written_first_for_a_new_division_the_portal_can_name(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "cost_codes.txt").write_bytes(b"2010\tSite Work\t\t2000\r\n")
    connector = Sage100FileConnector(
        inbox, tmp_path / "outbox", clock=lambda: WHEN, division_names={"7000": "Thermal and Moisture"}
    )
    results = connector.export_cost_code_lines("1001", [ExportLine("7100", "Roofing", "1", "7000")])
    assert results[0].outcome == "created"
    assert "import divisions-20261122-0001.tab in the Cost Divisions window first" in results[0].message
    assert read_tab(tmp_path / "outbox" / "divisions-20261122-0001.tab") == [["7000", "Thermal and Moisture"]]
    assert read_tab(tmp_path / "outbox" / "costcodes-20261122-0001.tab")[0][:4] == [
        "7100.000", "Roofing", "", "7000",
    ]
    # A later run knows the division was written: no second divisions file.
    later = Sage100FileConnector(
        inbox, tmp_path / "outbox", clock=lambda: WHEN, division_names={"7000": "Thermal and Moisture"}
    )
    later.export_cost_code_lines("1001", [ExportLine("7200", "Sheet Metal", "1", "7000")])
    assert not (tmp_path / "outbox" / "divisions-20261122-0002.tab").exists()


def test_line_without_a_division_is_not_given_one_from_its_thousands(connector):
    results = connector.export_cost_code_lines("1001", [ExportLine("3100", "Concrete", "1")])
    assert results[0].outcome == "failed"
    assert "has no division; Sage 100 Contractor requires one" in results[0].message


def test_code_list_row_whose_division_sage_lacks_is_listed_with_the_reason(connector, tmp_path):
    (tmp_path / "inbox" / "cost_codes.txt").write_bytes(
        b"2010\tSite Work\t\t2000\r\n7100\tRoofing\t\t7000\r\n8100\tDoors\r\n"
    )
    problems = {code.code: code.problem for code in connector.fetch_standard_cost_codes()}
    assert problems["2010"] is None
    assert "division 7000, which is not in Sage 100 Contractor's division list" in problems["7100"]
    assert "has no division" in problems["8100"]


def test_export_result_says_what_to_enter_in_6_2_budgets_and_lists_it(connector, tmp_path):
    results = connector.export_cost_code_lines(
        "1001", [ExportLine("2010", "Site Work", "1", "2000"), ExportLine("3100", "Concrete", "2", "3000")]
    )
    assert [r.outcome for r in results] == ["unchanged", "created"]
    assert results[0].message == (
        "Already in Sage 100 Contractor; to put it on the job, add cost code 2010.000 with cost type 1 "
        "to job 1001's "
        "budget in 6-2 Budgets (Sage documents no import for budget lines)."
    )
    assert "add cost code 3100.000 with cost type 2 to job 1001's budget in 6-2 Budgets" in results[1].message
    checklist = (tmp_path / "outbox" / "budget-lines-20261122-0001.txt").read_bytes().decode("cp1252")
    assert checklist.startswith("NOT a Sage import file.")
    assert "1001\t2010.000\t1\r\n1001\t3100.000\t2\r\n" in checklist
