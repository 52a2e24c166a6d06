"""The sync through the Sage 100 Contractor file connector (6-5 import files in an outbox)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from portal.erp.connectors import connector_for
from portal.extensions import db
from portal.models import StandardCostCode, utcnow
from portal.services.sync import run_company_sync
from tests.helpers import company_by_slug
from tests.sync.factories import approved_request, project_by_number


@pytest.fixture
def sage_files(app):
    app.config["ERP_CONNECTOR"] = "ridgeline=sage100_files"
    inbox = Path(app.config["SAGE100_INBOX_DIR"])
    inbox.mkdir(parents=True)
    company = company_by_slug("ridgeline")
    codes = db.session.scalars(
        select(StandardCostCode).where(StandardCostCode.company_id == company.id)
        .order_by(StandardCostCode.code)
    ).all()
    rows = ["Cost Code#\tDescription\tUnit\tDivision"] + [
        f"{c.code}\t{c.description}\t\t{c.division}" for c in codes if c.code != "4010.000"
    ]
    (inbox / "cost_codes.txt").write_text("\r\n".join(rows) + "\r\n", encoding="cp1252")
    (inbox / "jobs.txt").write_text("Job\tName\r\n2401\tMaple Street Medical Office\r\n")
    return inbox, Path(app.config["SAGE100_OUTBOX_DIR"])


def stored_list(company_id):
    return [(c.code, c.description, c.active) for c in db.session.scalars(
        select(StandardCostCode).where(StandardCostCode.company_id == company_id)
        .order_by(StandardCostCode.code)
    )]


def _sync(app):
    company = company_by_slug("ridgeline")
    return run_company_sync(db.session, company.id, connector=connector_for(company, app.config))


def test_sync_writes_approved_lines_as_a_6_5_import_file(app, sage_files):
    _inbox, outbox = sage_files
    request = approved_request(
        project_by_number("RB-2401"), [("4010.000", "1"), ("3010.000", "2")],
        descriptions={"3010.000": "Forms (portal text)"},
    )
    run = _sync(app)
    assert run.status == "succeeded", run.errors
    files = sorted(outbox.glob("*.tab"))
    assert [f.name for f in files] == [f"costcodes-{utcnow():%Y%m%d}-0001.tab"]
    rows = [line.split("\t") for line in files[0].read_bytes().decode("cp1252").split("\r\n") if line]
    # No header row; Sage already has 3010.000: the import would overwrite its description, so it
    # is not written.
    assert rows == [["4010.000", "Brick Veneer", "", "4000", "", "", "", ""]]
    db.session.refresh(request)
    assert request.status == "exported"
    outcomes = {line.code: line.export_outcome for line in request.lines}
    assert outcomes == {"4010.000": "created", "3010.000": "description_kept"}
    # A second run writes no new file: nothing is exported twice.
    assert _sync(app).status == "succeeded"
    assert len(list(outbox.glob("*.tab"))) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"Cost Code#;Description;Unit;Division\r\n2010;Demolition;;2000\r\n", "expected columns"),
        (b"2010\tCaf\x81 \x8d\r\n", "neither UTF-8 nor Windows-1252"),
        (b"\x00\x01\x02binary", "NUL bytes"),
    ],
    ids=["empty", "wrong-columns", "bad-encoding", "binary"],
)
def test_rule_8_broken_cost_code_file_is_reported_and_the_stored_list_is_unchanged(
    app, sage_files, content, message
):
    inbox, _outbox = sage_files
    company = company_by_slug("ridgeline")
    before = stored_list(company.id)
    changed_at = company.standard_codes_changed_at
    (inbox / "cost_codes.txt").write_bytes(content)
    run = _sync(app)
    assert run.status == "partial"
    assert any(message in error["message"] and "cost_codes.txt" in error["message"]
               for error in run.errors), run.errors
    assert stored_list(company.id) == before
    db.session.refresh(company)
    assert company.standard_codes_changed_at == changed_at


def test_rows_without_the_right_columns_are_listed_and_the_rest_stored(app, sage_files):
    inbox, _outbox = sage_files
    with (inbox / "cost_codes.txt").open("a", encoding="cp1252") as handle:
        handle.write("17010\tCommissioning\t\t17000\r\n17020\r\n0170\tLeading zero\r\n")
    run = _sync(app)
    reasons = [entry["reason"] for entry in run.invalid_codes]
    assert any("17020" in reason and "column" in reason for reason in reasons)
    assert any("starts with 0" in reason for reason in reasons)
    assert ("17010.000", "Commissioning", True) in stored_list(company_by_slug("ridgeline").id)


def test_sync_writes_the_import_file_type_the_company_chose(app, sage_files):
    _inbox, outbox = sage_files
    company_by_slug("ridgeline").sage100_file_type = "qte"
    db.session.commit()
    approved_request(project_by_number("RB-2401"), [("4010.000", "1")])
    assert _sync(app).status == "succeeded"
    files = [f.name for f in outbox.iterdir() if not f.name.startswith("export-ledger")]
    assert sorted(files) == [
        f"budget-lines-{utcnow():%Y%m%d}-0001.txt", f"costcodes-{utcnow():%Y%m%d}-0001.qte",
    ]


def test_rule_8_code_in_a_division_sage_lacks_is_listed_invalid_and_a_stored_one_kept(app, sage_files):
    inbox, _outbox = sage_files
    (inbox / "divisions.txt").write_text(
        "".join(f"{n}000\tDivision {n}\r\n" for n in range(1, 16)), encoding="cp1252"
    )  # no 16000 Electrical
    run = _sync(app)
    reasons = {entry["code"]: entry["reason"] for entry in run.invalid_codes}
    assert "division 16000, which is not in Sage 100 Contractor's division list" in reasons["16010.000"]
    stored = {c.code: c for c in db.session.scalars(
        select(StandardCostCode).where(StandardCostCode.company_id == company_by_slug("ridgeline").id)
    )}
    assert stored["16010.000"].active and "division 16000" in stored["16010.000"].invalid_reason
    assert stored["15010.000"].invalid_reason is None
