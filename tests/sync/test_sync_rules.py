"""The data sync's rules, each named after the rule it checks."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from portal.erp import reference, reference_sage300, sage100_database
from portal.erp.connectors import connector_for
from portal.extensions import db
from portal.models import (
    AuditEvent,
    CostTypeAssignment,
    ErpJob,
    Project,
    StandardCostCode,
    SyncRun,
    utcnow,
)
from portal.services import ServiceError
from portal.services.sync import outbox as sync_outbox
from portal.services.sync import run_company_sync
from tests.helpers import company_by_slug, run_together
from tests.sync.factories import approved_request, commitment, project_by_number
from tests.sync.wrappers import RecordingConnector


def sync(app, slug="ridgeline", connector=None, **kwargs):
    company = company_by_slug(slug)
    return run_company_sync(
        db.session, company.id, connector=connector or connector_for(company, app.config), **kwargs
    )


def job_codes(erp, job, slug="ridgeline"):
    return {code: (description, types) for code, description, types in erp.list_job_codes(slug, job)}


def test_a_sync_of_unchanged_data_changes_nothing(app, erp):
    before = {c.code: c.description for c in db.session.scalars(select(StandardCostCode))}
    run = sync(app)
    assert run.status == "succeeded", run.errors
    assert run.counts["codes"]["codes_added"] == run.counts["codes"]["codes_updated"] == 0
    assert run.counts["codes"]["codes_deactivated"] == 0
    assert {c.code: c.description for c in db.session.scalars(select(StandardCostCode))} == before
    company = company_by_slug("ridgeline")
    assert company.last_sync_at is not None
    assert company.next_sync_at == run.started_at + timedelta(hours=1)


def test_rule_4_export_keeps_the_erp_description(app, erp):
    project = project_by_number("RB-2401")
    request = approved_request(
        project, [("1010.000", "2"), ("3010.000", "1")],
        descriptions={"1010.000": "PM (portal wording)"},
    )
    run = sync(app)
    assert run.status == "succeeded", run.errors
    codes = job_codes(erp, "2401")
    assert codes["1010.000"][0] == "Project Management"
    assert codes["3010.000"][0] == "Formwork"
    db.session.refresh(request)
    kept = next(line for line in request.lines if line.code == "1010.000")
    assert kept.export_outcome == "description_kept"
    assert 'Kept the ERP description "Project Management"' in kept.export_message


def test_cost_types_are_merged(app, erp):
    project = project_by_number("RB-2401")
    assert "1020.000" in job_codes(erp, "2401")
    request = approved_request(project, [("1020.000", "2"), ("1020.000", "4")])
    sync(app)
    # Sage 100 Contractor: the job's one budget line for the code serves every cost type; the
    # portal records that 2 and 4 were approved (sage100_database).
    assert list(job_codes(erp, "2401")).count("1020.000") == 1
    db.session.refresh(request)
    assert request.status == "exported"
    assert {line.export_outcome for line in request.lines} == {"unchanged"}
    assert all("keeps no cost type on a budget line" in line.export_message for line in request.lines)
    states = db.session.scalars(
        select(CostTypeAssignment.erp_state).where(
            CostTypeAssignment.id.in_([line.assignment_id for line in request.lines])
        )
    ).all()
    assert states == ["exported", "exported"]


def test_the_run_counts_each_outcome_of_the_lines_it_exported(app, erp):
    assert "1020.000" in job_codes(erp, "2401")
    approved_request(
        project_by_number("RB-2401"),
        [("1010.000", "2"), ("3010.000", "2"), ("3010.000", "1"), ("4010.000", "1"), ("3020.000", "1")],
        descriptions={"1010.000": "PM (portal wording)", "3020.000": "x" * 60},
    )
    run = sync(app)
    counts = run.counts["cost_codes"]
    assert counts["lines_exported"] == 4
    assert counts["lines_created"] == 2
    assert counts["lines_merged_cost_type"] == 1
    assert counts["lines_description_kept"] == 1
    assert counts["lines_failed"] == 1
    assert (counts["requests_exported"], counts["requests_failed"]) == (0, 1)


def test_rule_6_export_repeated_creates_nothing_twice(app, erp):
    project = project_by_number("RB-2402")
    request = approved_request(project, [("4010.000", "1"), ("4020.000", "2"), ("1040.000", "3")])
    first = sync(app)
    after_first = job_codes(erp, "2402")
    connector = RecordingConnector(connector_for(company_by_slug("ridgeline"), app.config))
    second = sync(app, connector=connector)
    assert first.counts["cost_codes"]["lines_exported"] == 3
    assert second.counts["cost_codes"]["lines_exported"] == 0
    assert not [call for call in connector.calls if call[0] == "export_line"]
    assert job_codes(erp, "2402") == after_first
    # Even when the portal forgets it exported (a crash after the ERP answered), the ERP
    # answers "unchanged" and nothing is added twice.
    db.session.refresh(request)
    for line in request.lines:
        line.export_state = "pending"
    request.status = "approved"
    db.session.commit()
    sync(app)
    db.session.refresh(request)
    assert request.status == "exported"
    assert {line.export_outcome for line in request.lines} == {"unchanged"}
    assert job_codes(erp, "2402") == after_first
    exports = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "cost_code_request.export")
    ).all()
    assert len(exports) == 2


def test_rule_5_contracts_are_exported_after_cost_codes(app, erp):
    ready = project_by_number("RB-2405")
    approved_request(ready, [("5010.000", "1")])
    contract = commitment(ready, "C-100")
    change = commitment(ready, "CO-1", kind="change_order", parent=contract)
    waiting = project_by_number("RB-2406")
    approved_request(waiting, [("5020.000", "1")], status="requested")
    held = commitment(waiting, "C-200")
    connector = RecordingConnector(connector_for(company_by_slug("ridgeline"), app.config))

    run = sync(app, connector=connector)

    exports = [call for call in connector.calls if call[0].startswith("export")]
    assert exports == [
        ("export_line", "2405", "5010.000", "1"),
        ("export_commitment", "2405", "C-100"),
        ("export_commitment", "2405", "CO-1"),
    ]
    assert run.counts["commitments"] == {
        "commitments_exported": 2, "commitments_failed": 0, "commitments_waiting_for_cost_codes": 1,
    }
    for row in (contract, change, held):
        db.session.refresh(row)
    assert (contract.status, change.status, held.status) == ("exported", "exported", "export_requested")
    with erp.begin() as conn:
        rows = conn.execute(sa.select(reference.commitments.c.number)).scalars().all()
    assert sorted(rows) == ["C-100", "CO-1"]


def test_rule_8_invalid_codes_are_reported_and_valid_ones_stored(app, erp):
    # Harbor Point keeps its books in Sage 300 CRE, whose cost codes are text (Sage 100
    # Contractor's are numbers in a numeric column, which cannot hold these).
    connector = erp.connector("harbor-point")
    with connector._engine.begin() as conn:
        conn.execute(reference_sage300.standard_cost_codes.insert(), [
            {"cost_code": code, "description": text}
            for code, text in [
                ("17_10", "Underscore"), ("17 20", "Space inside"), ("1710", "No sections"),
                ("17-010", "Commissioning"), ("17-020", "Closeout"),
            ]
        ])
    run = sync(app, "harbor-point")
    reported = {entry["code"]: entry["reason"] for entry in run.invalid_codes}
    assert set(reported) == {"17_10", "17 20", "1710"}
    # The pull read Harbor Point's mask (99-999) from the ERP: each refusal names the code and it.
    assert reported["17_10"].startswith('Cost code "17_10" does not fit 99-999; it contains "_"')
    assert reported["1710"].startswith('Cost code "1710" does not fit 99-999')
    stored = {c.code: c for c in db.session.scalars(select(StandardCostCode))}
    assert stored["17-010"].description == "Commissioning"
    assert stored["17-020"].active
    assert run.counts["codes"]["codes_added"] == 2
    assert run.counts["codes"]["invalid"] == 3
    assert run.status == "succeeded"


def test_erp_changes_to_the_company_list_reach_the_portal(app, erp):
    company = company_by_slug("ridgeline")
    changed_before = company.standard_codes_changed_at
    erp.add_standard_cost_code("ridgeline", "2010", "Selective Demolition")
    # A code deleted in Sage's 6-5 Cost Codes window is gone from cstcde.
    with erp.connector("ridgeline")._engine.begin() as conn:
        conn.execute(sage100_database.cstcde.delete().where(sage100_database.cstcde.c.recnum == 2020))
    run = sync(app)
    stored = {c.code: c for c in db.session.scalars(
        select(StandardCostCode).where(StandardCostCode.company_id == company.id)
    )}
    assert stored["2010.000"].description == "Selective Demolition"
    assert not stored["2020.000"].active
    assert run.counts["codes"]["codes_updated"] == 1
    assert run.counts["codes"]["codes_deactivated"] == 1
    db.session.refresh(company)
    assert company.standard_codes_changed_at > changed_before


def test_erp_job_without_a_project_shows_under_ready_to_import(app, erp):
    erp.add_job("ridgeline", "2499", "Harbor Road Bridge")
    run = sync(app)
    jobs = {job.number: job for job in db.session.scalars(select(ErpJob))}
    assert jobs["2499"].project_id is None
    assert jobs["2401"].project_id == project_by_number("RB-2401").id
    assert run.counts["jobs"]["ready_to_import"] == 1
    assert run.counts["jobs"]["jobs_new"] == 9


def test_accepted_project_gets_its_erp_job_at_the_next_sync(app, erp):
    company = company_by_slug("ridgeline")
    project = Project(company_id=company.id, number="2450", name="North Yard Depot",
                      erp_link_state="accepted")
    db.session.add(project)
    db.session.commit()
    run = sync(app)
    db.session.refresh(project)
    assert (project.erp_link_state, project.erp_job_number) == ("linked", "2450")
    assert "2450" in {job.number for job in erp.connector("ridgeline").fetch_jobs()}
    assert run.counts["new_jobs"]["jobs_created"] == 1
    assert db.session.scalar(select(ErpJob.project_id).where(ErpJob.number == "2450")) == project.id


def test_a_second_concurrent_run_is_refused(app, erp):
    company = company_by_slug("ridgeline")
    db.session.add(SyncRun(company_id=company.id, status="running", heartbeat_at=utcnow()))
    db.session.commit()
    with pytest.raises(ServiceError, match="A sync of Ridgeline Builders is already running"):
        sync(app)


def test_a_run_whose_worker_died_does_not_block_the_next(app, erp):
    company = company_by_slug("ridgeline")
    old = utcnow() - timedelta(hours=2)
    stale = SyncRun(company_id=company.id, status="running", started_at=old, heartbeat_at=old)
    db.session.add(stale)
    db.session.commit()
    run = sync(app)
    db.session.refresh(stale)
    assert run.status == "succeeded"
    assert stale.status == "failed"
    assert "stopped without finishing" in stale.errors[0]["message"]


def test_the_run_and_each_export_write_audit_events(app, erp):
    approved_request(project_by_number("RB-2401"), [("3010.000", "1")])
    run = sync(app)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["cost_code_request.export", "sync.run"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sync.run"))
    assert event.details["status"] == "succeeded"
    assert event.object_id == str(run.id)


def test_request_for_a_project_without_erp_job_fails_with_the_reason(app, erp):
    project = project_by_number("RB-2407")
    project.erp_link_state = "ready_to_export"
    project.erp_job_number = None
    db.session.commit()
    request = approved_request(project, [("5010.000", "1")])
    run = sync(app)
    db.session.refresh(request)
    assert request.status == "failed"
    assert "has no ERP job yet" in request.last_error
    assert run.status == "partial"
    assert any("has no ERP job yet" in error["message"] for error in run.errors)


def test_seed_demo_seeds_the_reference_erp_to_match_the_demo_companies(tmp_path):
    from portal import create_app
    from portal.config import TestConfig
    from portal.erp.connectors import dispose_reference_erps, reference_erp

    erp_url = f"sqlite:///{tmp_path / 'erp.sqlite'}"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'portal.sqlite'}",
                     ERP_DATABASE_URL=erp_url)
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["portal", "seed-demo"])
        assert result.exit_code == 0, result.output
        assert "Reference ERP at" in result.output
        seeded = reference_erp(erp_url)
        assert len(seeded.list_standard_codes("ridgeline")) == 150
        assert [c.code for c in seeded.connector("harbor-point").fetch_cost_types()] == [
            "EQP", "LAB", "MAT", "OTH", "SUB"]
        assert {job.number for job in seeded.connector("ridgeline").fetch_jobs()} >= {"2401", "2408"}
        assert len(seeded.list_job_codes("ridgeline", "2401")) == 20
        # The first sync then finds nothing to change.
        run = sync(app)
        assert run.status == "succeeded", run.errors
        # Sage 100 Contractor has nine cost types (help 24.1): the demo lists five until then.
        assert run.counts["codes"] == {
            "cost_types_added": 4, "cost_types_updated": 0, "codes_added": 0, "codes_updated": 0,
            "codes_deactivated": 0, "codes_in_erp": 150, "invalid": 0,
        }
        db.session.remove()
        dispose_reference_erps()


def test_runs_of_one_company_never_overlap(app, erp):
    """Two workers start the same company's sync at once: one runs, the other is refused."""
    import threading

    from portal.erp.connectors import connector_for as make_connector

    company_id = company_by_slug("ridgeline").id
    db.session.rollback()  # SQLite: hold no lock while the workers run
    started = threading.Barrier(2)
    outcomes: list[str] = []

    class SlowConnector(RecordingConnector):
        def fetch_cost_types(self):
            time.sleep(0.5)  # the first run is still running when the second tries to start
            return super().fetch_cost_types()

    def worker():
        with app.app_context():
            connector = SlowConnector(make_connector(db.session.get(type(company_by_slug("ridgeline")),
                                                                    company_id), app.config))
            db.session.rollback()
            started.wait()
            try:
                run = run_company_sync(db.session, company_id, connector=connector)
                outcomes.append(run.status)
            except ServiceError as error:
                outcomes.append(str(error))
            finally:
                db.session.remove()

    run_together([worker] * 2)
    assert sorted(outcomes) == ["A sync of Ridgeline Builders is already running.", "succeeded"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 1


class BatchRecordingConnector:
    """The reference connector, recording the jobs of each many-jobs export call."""

    def __init__(self, inner):
        self.inner = inner
        self.batches: list[list[str]] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def export_job_cost_codes(self, lines_by_job):
        self.batches.append(list(lines_by_job))
        return self.inner.export_job_cost_codes(lines_by_job)


def test_each_exported_batch_moves_the_runs_heartbeat_on(app, erp, monkeypatch):
    """A long export keeps showing it is alive, so that it is never taken for a stopped run."""
    monkeypatch.setattr(sync_outbox, "EXPORT_BATCH", 1)
    approved_request(project_by_number("RB-2401"), [("3010.000", "1"), ("3010.000", "2"), ("4010.000", "5")])
    clock = [utcnow()]

    def now():
        clock[0] += timedelta(minutes=10)
        return clock[0]

    seen = []

    class HeartbeatWatchingConnector(BatchRecordingConnector):
        def export_job_cost_codes(self, lines_by_job):
            seen.append(db.session.scalar(select(SyncRun.heartbeat_at).where(SyncRun.status == "running")))
            return super().export_job_cost_codes(lines_by_job)

    connector = HeartbeatWatchingConnector(connector_for(company_by_slug("ridgeline"), app.config))
    run = sync(app, connector=connector, now=now)

    assert run.status == "succeeded", run.errors
    assert len(seen) == 3
    assert seen[0] < seen[1] < seen[2]


def test_an_export_is_sent_in_batches_of_whole_requests_and_a_big_request_is_split(app, erp, monkeypatch):
    monkeypatch.setattr(sync_outbox, "EXPORT_BATCH", 3)
    requests = [
        approved_request(
            project_by_number("RB-2401"),
            [("3010.000", "1"), ("3010.000", "2"), ("4010.000", "5"), ("9010.000", "1")],
        ),
        approved_request(project_by_number("RB-2406"), [("9020.000", "4")]),
        approved_request(project_by_number("RB-2402"), [("4010.000", "1"), ("4020.000", "2")]),
    ]
    connector = BatchRecordingConnector(connector_for(company_by_slug("ridgeline"), app.config))

    run = sync(app, connector=connector)

    assert run.status == "succeeded", run.errors
    # 4 lines of RB-2401 as 3 + 1; its last line travels with RB-2406's; RB-2402's 2 alone.
    assert connector.batches == [["2401"], ["2401", "2406"], ["2402"]]
    assert run.counts["cost_codes"]["lines_exported"] == 7
    assert run.counts["cost_codes"]["requests_exported"] == 3
    for request in requests:
        db.session.refresh(request)
        assert request.status == "exported" and request.exported_at is not None
        assert all(line.export_state == "exported" and line.exported_at for line in request.lines)
    assert "3010.000" in job_codes(erp, "2401")
    assert "4020.000" in job_codes(erp, "2402")
    exported = db.session.scalars(
        select(AuditEvent.object_id).where(AuditEvent.action == "cost_code_request.export")
    ).all()
    assert sorted(exported) == sorted(str(request.id) for request in requests)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.object_id == str(requests[0].id),
                                 AuditEvent.action == "cost_code_request.export")
    )
    assert event.details["erp_job"] == "2401"
    assert sum(event.details["outcomes"].values()) == 4
    assert event.actor_name == "system"


def test_rule_8_erp_code_not_fitting_the_company_mask_is_listed_invalid_and_a_stored_one_kept(app, erp):
    company = company_by_slug("harbor-point")
    erp.add_standard_cost_code("harbor-point", "03-1000", "Precast")
    erp.add_standard_cost_code("harbor-point", "04-1000", "Stone")
    db.session.add(StandardCostCode(company_id=company.id, code="04-1000", description="Stone"))
    db.session.commit()
    run = sync(app, "harbor-point")
    reasons = {entry["code"]: entry["reason"] for entry in run.invalid_codes}
    assert reasons["03-1000"] == (
        'Cost code "03-1000" does not fit 99-999; its section 2 has 4 characters where the mask has 3.'
    )
    stored = {c.code: c for c in db.session.scalars(
        select(StandardCostCode).where(StandardCostCode.company_id == company.id)
    )}
    assert "03-1000" not in stored
    assert stored["04-1000"].invalid_reason.startswith('Cost code "04-1000" does not fit 99-999')
    assert stored["04-100"].invalid_reason is None


def test_rule_8_export_line_not_fitting_the_company_mask_fails_alone_naming_code_and_mask(app, erp):
    company = company_by_slug("harbor-point")
    db.session.add(StandardCostCode(company_id=company.id, code="03-1000", description="Precast"))
    db.session.commit()
    request = approved_request(project_by_number("HP-301"), [("03-1000", "LAB"), ("03-200", "MAT")])
    sync(app, "harbor-point")
    lines = {line.code: line for line in request.lines}
    db.session.refresh(request)
    assert lines["03-200"].export_state == "exported"
    assert lines["03-1000"].export_state == "failed"
    assert "does not fit 99-999" in lines["03-1000"].export_message
    assert "03-1000" not in job_codes(erp, "23-0301", "harbor-point")


def test_rule_8_the_pull_takes_the_cost_code_mask_from_the_erp_when_the_connector_reads_it(app, erp):
    """Issue 15: the mask is read from the ERP when the connector can; Company Admin's entry
    stands only until then. A code fitting the ERP's mask is added; the change is audited."""
    company = company_by_slug("harbor-point")
    company.cost_code_mask = None
    db.session.commit()
    erp.connector("harbor-point").set_mask([(2, "-"), (4, "")])
    erp.add_standard_cost_code("harbor-point", "03-1000", "Precast")
    run = sync(app, "harbor-point")
    db.session.expire_all()
    assert company_by_slug("harbor-point").cost_code_mask == "99-9999"
    stored = {c.code: c for c in db.session.scalars(
        select(StandardCostCode).where(StandardCostCode.company_id == company.id)
    )}
    assert stored["03-1000"].invalid_reason is None
    # The demo's 3-digit codes no longer fit the ERP's mask: listed, each naming the mask.
    assert any(
        entry["reason"].startswith(f'Cost code "{entry["code"]}" does not fit 99-9999')
        for entry in run.invalid_codes
    )
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "company.cost_code_mask")
    ).one()
    assert event.details == {"from": "none", "to": "99-9999", "read_from": "ERP"}
