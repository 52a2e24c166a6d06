import contextlib
import json
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.erp.base import CommitmentExport, ErpError, ExportLine
from portal.erp.sage100_files import (
    IMPORT_COLUMNS,
    Sage100FileConnector,
    read_cost_code_file,
    write_cost_code_import,
)

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
    return Sage100FileConnector(inbox, tmp_path / "outbox", clock=lambda: WHEN)


def test_reads_tab_separated_list_with_header():
    result = read_cost_code_file(
        b"Cost Code#\tDescription\tUnit\tDivision\n2010\tSite Work\tLS\t2000\n3100\tConcrete\n"
    )
    assert [(c.code, c.description, c.division) for c in result.codes] == [
        ("2010.000", "Site Work", "2000"),
        ("3100.000", "Concrete", "3000"),
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
        (b"1,2,3,4,5,6\n7,8,9,10,11,12\n", "expected columns"),
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


def test_import_file_has_the_6_5_layout(tmp_path):
    path = write_cost_code_import(
        tmp_path, [ExportLine("2010.000", "Site Work", "1", "2000")], 7, WHEN
    )
    assert path.name == "costcodes-20261122-0007.tab"
    rows = read_tab(path)
    assert rows[0] == IMPORT_COLUMNS
    assert rows[0][:4] == ["Cost Code#", "Description", "Unit", "Division"]
    assert rows[1] == ["2010.000", "Site Work", "", "2000", "", "", "", ""]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_export_writes_new_codes_to_the_run_file(connector, tmp_path):
    results = connector.export_cost_code_lines(
        "1001",
        [ExportLine("3100", "Concrete", "1"), ExportLine("3100", "Concrete", "2")],
    )
    assert [r.outcome for r in results] == ["created", "created"]
    assert results[0].message == (
        "written to costcodes-20261122-0001.tab for import in Sage 100 Contractor (6-5)"
    )
    rows = read_tab(tmp_path / "outbox" / "costcodes-20261122-0001.tab")
    assert [row[0] for row in rows[1:]] == ["3100.000"]


def test_repeated_export_writes_nothing_twice(connector, tmp_path):
    line = ExportLine("3100", "Concrete", "1")
    connector.export_cost_code_lines("1001", [line])
    again = Sage100FileConnector(tmp_path / "inbox", tmp_path / "outbox", clock=lambda: WHEN)
    results = again.export_cost_code_lines("1001", [line])
    assert [r.outcome for r in results] == ["unchanged"]
    tab_files = sorted(p.name for p in (tmp_path / "outbox").glob("*.tab"))
    assert tab_files == ["costcodes-20261122-0001.tab"]
    assert len(read_tab(tmp_path / "outbox" / tab_files[0])) == 2


def test_each_sync_run_gets_its_own_file(connector, tmp_path):
    connector.export_cost_code_lines("1001", [ExportLine("3100", "Concrete", "1")])
    connector.export_cost_code_lines("1001", [ExportLine("3200", "Rebar", "1")])
    later = Sage100FileConnector(tmp_path / "inbox", tmp_path / "outbox", clock=lambda: WHEN)
    later.export_cost_code_lines("1001", [ExportLine("3300", "Forms", "1")])
    first = read_tab(tmp_path / "outbox" / "costcodes-20261122-0001.tab")
    second = read_tab(tmp_path / "outbox" / "costcodes-20261122-0002.tab")
    assert [row[0] for row in first[1:]] == ["3100.000", "3200.000"]
    assert [row[0] for row in second[1:]] == ["3300.000"]


def test_export_never_overwrites_a_description_sage_has(connector, tmp_path):
    results = connector.export_cost_code_lines("1001", [ExportLine("2010", "Sitework", "1")])
    assert [r.outcome for r in results] == ["description_kept"]
    assert 'Kept the ERP description "Site Work"' in results[0].message
    assert list((tmp_path / "outbox").glob("*.tab")) == []


def test_bad_line_fails_alone(connector):
    results = connector.export_cost_code_lines(
        "1001", [ExportLine("0100", "Bad", "1"), ExportLine("3100", "Concrete", "1")]
    )
    assert [r.outcome for r in results] == ["failed", "created"]
    assert "starts with 0" in results[0].message


def test_unknown_job_fails_each_line_when_a_job_list_exists(connector, tmp_path):
    (tmp_path / "inbox" / "jobs.txt").write_text("Job,Name\n1001,Main Street Clinic\n")
    results = connector.export_cost_code_lines("9999", [ExportLine("3100", "Concrete", "1")])
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
    with pytest.raises(ErpError, match="no cost code list"):
        Sage100FileConnector(tmp_path, tmp_path / "out").fetch_standard_cost_codes()


def test_damaged_ledger_is_an_erp_error(connector, tmp_path):
    (tmp_path / "outbox").mkdir()
    (tmp_path / "outbox" / "export-ledger.json").write_text("{not json")
    with pytest.raises(ErpError, match="ledger"):
        connector.export_cost_code_lines("1001", [ExportLine("3100", "Concrete", "1")])


def test_ledger_is_json(connector, tmp_path):
    connector.export_cost_code_lines("1001", [ExportLine("3100", "Concrete", "1")])
    ledger = json.loads((tmp_path / "outbox" / "export-ledger.json").read_text())
    assert ledger["last_run"] == 1


def test_commitments_are_refused_with_a_message(connector):
    result = connector.export_commitment(
        "1001", CommitmentExport("SC-1", "Concrete", "contract", 1)
    )
    assert result.outcome == "failed"
    assert "does not export contracts" in result.message
