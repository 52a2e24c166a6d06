"""Faults: an ERP that fails at line k of an export, and a run that dies in the middle."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.erp.connectors import connector_for
from portal.extensions import db
from portal.models import CostTypeAssignment, SyncRun, UpdateRequestLine, utcnow
from portal.services.sync import run_company_sync
from tests.helpers import company_by_slug
from tests.sync.factories import approved_request, project_by_number
from tests.sync.wrappers import KilledWorker, RecordingConnector

# Two requests, seven lines: new codes, new cost types on codes the job has, one description
# the ERP keeps.
APPROVED = {
    ("RB-2401", "2401"): [("3010.000", "1"), ("3010.000", "2"), ("1010.000", "3"), ("4010.000", "5")],
    ("RB-2406", "2406"): [("9010.000", "1"), ("9020.000", "4"), ("2010.000", "2")],
}


def _approve_all():
    return [
        approved_request(project_by_number(number), lines)
        for (number, _job), lines in APPROVED.items()
    ]


def _expected_erp(erp_before):
    # Ridgeline keeps its books in Sage 100 Contractor: a job's cost code is one budget line,
    # whatever its cost types (the portal records those).
    expected = {job: set(codes) for job, codes in erp_before.items()}
    for (_number, job), lines in APPROVED.items():
        expected[job].update(code for code, _cost_type in lines)
    return expected


def _erp_state(erp):
    return {
        job: {code: (description, types) for code, description, types in erp.list_job_codes("ridgeline", job)}
        for _number, job in APPROVED
    }


def _run(app, connector):
    company = company_by_slug("ridgeline")
    return run_company_sync(db.session, company.id, connector=connector)


def _assert_nothing_half_marked(requests, erp):
    """Every line the portal calls exported has its budget line in the ERP, its assignment is
    exported; every other line is pending or failed and its assignment still approved."""
    erp_now = _erp_state(erp)
    for request in requests:
        db.session.refresh(request)
        job = request.project.erp_job_number
        for line in request.lines:
            assignment = db.session.get(CostTypeAssignment, line.assignment_id)
            if line.export_state == "exported":
                assert line.code in erp_now[job]
                assert assignment.erp_state == "exported"
            else:
                assert line.export_state in {"pending", "failed"}
                assert assignment.erp_state == "approved"
        if request.status == "exported":
            assert all(line.export_state == "exported" for line in request.lines)


@pytest.mark.parametrize("mode", ["result", "erp_error", "crash"])
@pytest.mark.parametrize("fail_at", [1, 3, 4, 5, 7])
def test_export_failing_at_line_k_recovers_with_every_line_once(app, erp, fail_at, mode):
    before = _erp_state(erp)
    requests = _approve_all()
    connector = RecordingConnector(connector_for(company_by_slug("ridgeline"), app.config), fail_at, mode)

    first = _run(app, connector)

    assert first.status == ("failed" if mode == "crash" else "partial")
    _assert_nothing_half_marked(requests, erp)
    if mode != "crash":
        failed = [r for r in requests if r.status == "failed"]
        assert len(failed) == 1 and failed[0].last_error
    connector.recover()

    second = _run(app, connector)

    assert second.status == "succeeded", second.errors
    _assert_nothing_half_marked(requests, erp)
    assert {r.status for r in requests} == {"exported"}
    after = _erp_state(erp)
    assert {job: set(codes) for job, codes in after.items()} == _expected_erp(before)
    created = [r.code for r in connector.results if r.outcome == "created"]
    assert len(created) == len(set(created)), "a budget line was put on the job twice"
    # The ERP's description of a code it already had is kept through failure and retry.
    assert after["2401"]["1010.000"][0] == "Project Management"


def test_a_run_killed_in_the_middle_leaves_nothing_half_marked(app, erp):
    requests = _approve_all()
    connector = RecordingConnector(connector_for(company_by_slug("ridgeline"), app.config), 3, "kill")
    with pytest.raises(KilledWorker):
        _run(app, connector)
    db.session.rollback()

    _assert_nothing_half_marked(requests, erp)
    states = [line.export_state for line in db.session.scalars(
        select(UpdateRequestLine)
        .where(UpdateRequestLine.request_id.in_([r.id for r in requests]))
        .order_by(UpdateRequestLine.request_id, UpdateRequestLine.code, UpdateRequestLine.cost_type_code)
    )]
    # Results are recorded a batch at a time: the killed batch's lines all stay pending, though
    # the ERP already took the first two; the next run sends them again and the ERP answers
    # "unchanged", so they are marked exported then, still once each in the ERP.
    assert states.count("exported") == 0
    assert states.count("pending") == 7
    assert len(connector.results) == 0 and connector.lines_seen == 3
    assert {r.status for r in requests} == {"approved"}
    killed = db.session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert killed.status == "running"

    # The next scheduled run after the dead run went stale takes over and finishes the work.
    connector.recover()
    killed.heartbeat_at = killed.started_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    run = _run(app, connector)
    assert run.status == "succeeded"
    db.session.refresh(killed)
    assert killed.status == "failed"
    _assert_nothing_half_marked(requests, erp)
    assert {r.status for r in requests} == {"exported"}
