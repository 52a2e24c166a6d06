"""Refresh Cost Codes, the service: each rule of a refresh is a test named after it."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, select

import portal.services.refresh.jobs as refresh_jobs
import portal.services.refresh.run as refresh_run
import portal.services.refresh.write as refresh_write
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Project,
    ProjectCostCode,
    RefreshJob,
    StandardCostCode,
    utcnow,
)
from portal.services import PermissionDenied
from portal.services.refresh import (
    STALLED_MESSAGE,
    fail_stalled_refreshes,
    project_is_out_of_date,
    refresh_project_cost_codes,
    result_summary,
    start_project_refresh,
    start_refresh_all_projects,
)
from tests.helpers import company_by_slug, first_project, user_by_email
from tests.refresh.refresh_support import add_company_code, jobs_of, project_codes


def run_refresh(project, email="pm@ridgeline.test"):
    job = start_project_refresh(db.session, project, user_by_email(email))
    return refresh_project_cost_codes(db.session, job.id)


def addable_company_codes(slug):
    company = company_by_slug(slug)
    return set(db.session.scalars(
        select(StandardCostCode.code).where(
            StandardCostCode.company_id == company.id, StandardCostCode.active.is_(True),
            StandardCostCode.archived.is_(False),
        )
    ))


@pytest.mark.parametrize("slug", ["ridgeline", "harbor-point"])
def test_rule_7_refresh_adds_every_active_company_code_the_project_lacks(app, slug):
    project = first_project(slug)
    before = set(project_codes(project))
    email = f"pm@{'ridgeline' if slug == 'ridgeline' else 'harborpoint'}.test"
    job = run_refresh(project, email)
    after = project_codes(project)
    assert job.status == "succeeded"
    assert addable_company_codes(slug) <= set(after)
    assert job.added == len(set(after) - before) > 100
    assert all(after[code].origin == "company" for code in set(after) - before)
    assert job.progress_done == job.progress_total == 150


def test_refresh_updates_descriptions_of_codes_from_the_company_list(app):
    project = first_project()
    code = sorted(project_codes(project))[0]
    standard = db.session.scalar(select(StandardCostCode).where(StandardCostCode.code == code))
    standard.description = "Project Management and Controls"
    db.session.commit()
    job = run_refresh(project)
    assert project_codes(project)[code].description == "Project Management and Controls"
    assert job.updated == 1


def test_rule_7_code_gone_from_the_company_list_is_flagged_and_stays(app):
    project = first_project()
    db.session.add(ProjectCostCode(project_id=project.id, code="9990.000", description="Retired",
                                   origin="company"))
    db.session.commit()
    job = run_refresh(project)
    kept = project_codes(project)["9990.000"]
    assert kept.not_in_company_list is True
    assert job.not_in_company_list == 1
    assert "1 no longer in the company list" in result_summary(job)


def test_code_back_in_the_company_list_is_unflagged(app):
    project = first_project()
    db.session.add(ProjectCostCode(project_id=project.id, code="9990.000", description="Retired",
                                   origin="company", not_in_company_list=True))
    db.session.commit()
    add_company_code("ridgeline", "9990.000", "Retired")
    job = run_refresh(project)
    assert project_codes(project)["9990.000"].not_in_company_list is False
    assert job.not_in_company_list == 0


def test_archived_company_codes_are_not_added_and_stay_where_they_are(app):
    project = first_project()
    code_in_project = sorted(project_codes(project))[1]
    standard = db.session.scalar(
        select(StandardCostCode).where(StandardCostCode.code == code_in_project)
    )
    standard.archived = True
    add_company_code("ridgeline", "9980.000", "Old code", archived=True)
    run_refresh(project)
    codes = project_codes(project)
    assert "9980.000" not in codes
    assert code_in_project in codes and not codes[code_in_project].not_in_company_list


def test_project_only_codes_are_untouched(app):
    project = first_project()
    mine = sorted(project_codes(project))[2]
    db.session.add(ProjectCostCode(project_id=project.id, code="9970.000", description="Our own",
                                   origin="project"))
    row = project_codes(project)[mine]
    row.origin, row.description = "project", "Our wording"
    db.session.commit()
    run_refresh(project)
    codes = project_codes(project)
    assert codes["9970.000"].description == "Our own"
    assert codes["9970.000"].not_in_company_list is False
    assert codes[mine].description == "Our wording"


def test_sage300_code_breaking_the_delimiter_rule_is_skipped_and_named(app):
    project = first_project("harbor-point")
    add_company_code("harbor-point", "05_900", "Underscore code")
    add_company_code("harbor-point", "05-960", "Good code")
    job = run_refresh(project, "pm@harborpoint.test")
    codes = project_codes(project)
    assert "05_900" not in codes and "05-960" in codes
    assert [item["code"] for item in job.skipped] == ["05_900"]
    assert "05_900" in job.skipped[0]["reason"]
    assert "05_900" in result_summary(job)
    assert job.status == "succeeded"


def test_rule_7_failed_refresh_leaves_the_project_as_it_was(app, monkeypatch):
    project = first_project()
    db.session.add(ProjectCostCode(project_id=project.id, code="9990.000", description="Retired",
                                   origin="company"))
    db.session.commit()
    before = {code: (row.description, row.not_in_company_list)
              for code, row in project_codes(project).items()}
    refreshed_at = project.cost_codes_refreshed_at

    def broken(*args, **kwargs):  # fails after the new codes were inserted
        raise RuntimeError("disk full")

    monkeypatch.setattr(refresh_write, "_set_flags", broken)
    job = run_refresh(project)
    after = {code: (row.description, row.not_in_company_list)
             for code, row in project_codes(project).items()}
    assert after == before
    assert job.status == "failed" and "nothing was changed" in job.error
    db.session.refresh(project)
    assert project.cost_codes_refreshed_at == refreshed_at


def test_rule_7_second_click_returns_the_same_job(app):
    project = first_project()
    pm = user_by_email("pm@ridgeline.test")
    first = start_project_refresh(db.session, project, pm)
    second = start_project_refresh(db.session, project, pm)
    assert first.id == second.id
    assert len(jobs_of(project)) == 1


def test_unique_index_returns_the_existing_job_to_the_loser_of_a_race(app, monkeypatch):
    project = first_project()
    pm = user_by_email("pm@ridgeline.test")
    winner = start_project_refresh(db.session, project, pm)
    real = refresh_jobs.active_refresh
    calls = []

    def not_seen_yet(session, project_id):  # the loser checked before the winner committed
        calls.append(project_id)
        return None if len(calls) == 1 else real(session, project_id)

    monkeypatch.setattr(refresh_jobs, "active_refresh", not_seen_yet)
    loser = start_project_refresh(db.session, project, pm)
    assert loser.id == winner.id
    assert len(jobs_of(project)) == 1


def test_rule_7_refresh_needs_admin_on_the_project_admin_tool(app):
    project = first_project()
    with pytest.raises(PermissionDenied, match="Admin"):
        start_project_refresh(db.session, project, user_by_email("viewer@ridgeline.test"))
    with pytest.raises(PermissionDenied):
        start_project_refresh(db.session, project, user_by_email("approver@ridgeline.test"))
    assert jobs_of(project) == []


def test_stalled_refresh_is_marked_failed_and_can_be_tried_again(app):
    project = first_project()
    pm = user_by_email("pm@ridgeline.test")
    job = start_project_refresh(db.session, project, pm)
    job.status, job.started_at = "running", utcnow() - timedelta(minutes=3)
    job.heartbeat_at = utcnow() - timedelta(seconds=61)
    db.session.commit()
    assert fail_stalled_refreshes(db.session, utcnow()) == [job.id]
    db.session.refresh(job)
    assert job.status == "failed" and job.error == STALLED_MESSAGE
    again = start_project_refresh(db.session, project, pm)
    assert again.id != job.id
    assert refresh_project_cost_codes(db.session, again.id).status == "succeeded"


def test_job_no_worker_picked_up_is_failed_after_fifteen_minutes(app):
    project = first_project()
    job = start_project_refresh(db.session, project, user_by_email("pm@ridgeline.test"))
    assert fail_stalled_refreshes(db.session, utcnow() + timedelta(minutes=14)) == []
    assert fail_stalled_refreshes(db.session, utcnow() + timedelta(minutes=16)) == [job.id]
    db.session.refresh(job)
    assert job.status == "failed" and "no background worker" in job.error
    assert refresh_project_cost_codes(db.session, job.id).status == "failed"  # a late worker: no-op


def test_fresh_heartbeat_is_not_stalled(app):
    project = first_project()
    job = start_project_refresh(db.session, project, user_by_email("pm@ridgeline.test"))
    job.status, job.heartbeat_at = "running", utcnow() - timedelta(seconds=30)
    db.session.commit()
    assert fail_stalled_refreshes(db.session, utcnow()) == []


def test_worker_taken_for_stalled_mid_refresh_changes_nothing(app, monkeypatch):
    project = first_project()
    before = set(project_codes(project))
    real = refresh_run.report_progress

    def stalled_meanwhile(session, job_id, **values):
        # Another worker's check found no heartbeat and marked the job failed.
        fail_stalled_refreshes(session, utcnow() + timedelta(minutes=5))
        real(session, job_id, **values)

    monkeypatch.setattr(refresh_run, "report_progress", stalled_meanwhile)
    job = run_refresh(project)
    assert job.status == "failed" and job.error == STALLED_MESSAGE
    assert set(project_codes(project)) == before


def test_refresh_records_an_audit_event_with_its_counts(app):
    project = first_project()
    job = run_refresh(project)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "project.refresh_cost_codes")
    )
    assert event.project_id == project.id and event.actor_name.startswith("Project Manager")
    assert event.details["added"] == job.added and event.details["not_in_company_list"] == 0


def test_project_is_out_of_date_when_the_company_list_changed_after_its_refresh(app):
    project = first_project()
    assert not project_is_out_of_date(project)
    add_company_code("ridgeline", "9960.000", "New code")
    assert project_is_out_of_date(project)
    run_refresh(project)
    db.session.refresh(project)
    assert not project_is_out_of_date(project)


def spy_on_progress(monkeypatch) -> list[dict]:
    seen = []
    real = refresh_run.report_progress

    def spy(session, job_id, **values):
        seen.append(values)
        real(session, job_id, **values)

    monkeypatch.setattr(refresh_run, "report_progress", spy)
    return seen


def test_progress_is_reported_in_steps_while_the_refresh_runs(app, monkeypatch):
    monkeypatch.setattr(refresh_run, "PROGRESS_INTERVAL", 0)  # a slow refresh: every step is due
    seen = spy_on_progress(monkeypatch)
    run_refresh(first_project())
    done = [values["progress_done"] for values in seen]
    assert seen[0] == {"progress_total": 150, "progress_done": 0}
    assert done == sorted(done) and done[-1] == 150 and len(done) > 10


def test_progress_is_committed_at_most_every_quarter_second(app, monkeypatch):
    readings = iter(n * 0.1 for n in range(1000))  # each look at the clock: 0.1 s later
    monkeypatch.setattr(refresh_run, "monotonic", lambda: next(readings))
    seen = spy_on_progress(monkeypatch)
    job = run_refresh(first_project())
    done = [values["progress_done"] for values in seen]
    assert 3 < len(done) < 10  # about every third of the 19 steps, not after each one
    assert job.progress_done == job.progress_total == 150


def test_a_quick_refresh_commits_its_progress_once(app, monkeypatch):
    monkeypatch.setattr(refresh_run, "monotonic", lambda: 0.0)
    seen = spy_on_progress(monkeypatch)
    job = run_refresh(first_project())
    assert seen == [{"progress_total": 150, "progress_done": 0}]
    assert job.status == "succeeded" and job.progress_done == 150


def test_refresh_all_projects_starts_one_job_per_out_of_date_project(app):
    company = company_by_slug("ridgeline")
    up_to_date = first_project()
    add_company_code("ridgeline", "9960.000", "New code")
    up_to_date.cost_codes_refreshed_at = utcnow() + timedelta(seconds=5)
    db.session.commit()
    batch = start_refresh_all_projects(db.session, company, user_by_email("admin@ridgeline.test"))
    assert len(batch.jobs) == 7
    assert up_to_date.id not in {job.project_id for job in batch.jobs}
    assert {job.batch_id for job in batch.jobs} == {batch.batch_id}
    with pytest.raises(PermissionDenied):
        start_refresh_all_projects(db.session, company, user_by_email("pm@ridgeline.test"))


def test_refresh_adds_exactly_the_missing_codes_scattered_or_in_long_runs(app):
    # Ridgeline's new codes interleave (by id) with Harbor Point's; the project already holds
    # every third of the first block, so the codes to add are short gaps and then a long run.
    ridgeline, harbor = company_by_slug("ridgeline"), company_by_slug("harbor-point")
    now = utcnow()
    for n in range(200):
        for company, code in ((ridgeline, f"{8000 + n}.100"), (harbor, f"88-{n:03d}")):
            db.session.add(StandardCostCode(
                company_id=company.id, code=code, description=f"Code {n}", division="",
                division_name="", active=True, archived=False, updated_at=now,
            ))
    db.session.commit()
    project = first_project()
    run_refresh(project)
    complete = set(project_codes(project))
    db.session.execute(ProjectCostCode.__table__.delete().where(
        ProjectCostCode.project_id == project.id,
        ProjectCostCode.code.in_([f"{8000 + n}.100" for n in range(200) if n >= 60 or n % 3]),
    ))
    db.session.commit()
    job = run_refresh(project)
    after = project_codes(project)
    assert job.status == "succeeded" and job.added == 200 - 20
    assert set(after) == complete and not any(code.startswith("88-") for code in after)


def test_refresh_updates_and_flags_only_its_own_project_codes_in_bulk(app):
    # Two projects whose codes interleave by id; only the refreshed one changes.
    company = company_by_slug("ridgeline")
    mine, other = db.session.scalars(
        select(Project).where(Project.company_id == company.id).order_by(Project.number).limit(2)
    ).all()
    for project in (mine, other):
        run_refresh(project)
    for n in range(40):
        for project in (mine, other):
            db.session.add(ProjectCostCode(
                project_id=project.id, code=f"{9800 + n}.000", description="Retired",
                origin="company",
            ))
    db.session.commit()
    other_before = {code: row.description for code, row in project_codes(other).items()}
    changed = db.session.scalars(select(StandardCostCode).where(
        StandardCostCode.company_id == company.id, StandardCostCode.archived.is_(False),
    ).order_by(StandardCostCode.id)).all()[5:]
    for standard in changed:
        standard.description = f"{standard.description} (renamed)"[:50]
    db.session.commit()
    job = run_refresh(mine)
    after = project_codes(mine)
    assert job.status == "succeeded" and job.updated == len(changed) > 100
    assert all(after[standard.code].description == standard.description for standard in changed)
    assert sorted(code for code, row in after.items() if row.not_in_company_list) == [
        f"{9800 + n}.000" for n in range(40)
    ]
    assert job.not_in_company_list == 40
    untouched = project_codes(other)
    assert {code: row.description for code, row in untouched.items()} == other_before
    assert not any(row.not_in_company_list for row in untouched.values())


def test_refresh_of_20000_codes_is_set_based(app):
    company = company_by_slug("ridgeline")
    project = first_project()
    db.session.execute(
        StandardCostCode.__table__.insert(),
        [{"company_id": company.id, "code": f"{100000 + n}.5", "description": f"Code {n}",
          "division": "", "division_name": "", "active": True, "archived": False,
          "updated_at": utcnow()} for n in range(20_000)],
    )
    db.session.commit()
    statements = []

    def listener(conn, cursor, statement, *args):  # noqa: ANN001
        if "cost_codes" in statement:  # the progress reports are counted apart
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        job = run_refresh(project)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert job.status == "succeeded" and job.added == 20_000 + 129
    # One read of each list, bulk inserts of 2,000 rows: not one statement per code.
    assert len(statements) <= 20, f"{len(statements)} statements for 20,000 codes"
    count = db.session.scalar(
        select(func.count()).select_from(ProjectCostCode).where(ProjectCostCode.project_id == project.id)
    )
    assert count == 20_000 + 149
    assert db.session.scalar(select(func.count()).select_from(RefreshJob)) == 1


def test_periodic_task_fails_stalled_refreshes_every_minute(app):
    import portal.tasks as tasks

    project = first_project()
    job = start_project_refresh(db.session, project, user_by_email("pm@ridgeline.test"))
    job.status, job.heartbeat_at = "running", utcnow() - timedelta(minutes=2)
    db.session.commit()
    periodic = tasks.fail_stalled_refreshes_task.task_class
    assert periodic().validate_datetime(datetime(2026, 1, 1, 8, 17))  # due every minute
    tasks.fail_stalled_refreshes_task.call_local()
    db.session.refresh(job)
    assert job.status == "failed" and job.error == STALLED_MESSAGE


def test_refresh_task_runs_the_job_with_the_configured_step_delay(app, monkeypatch):
    import portal.tasks as tasks

    seen = {}
    monkeypatch.setitem(app.config, "REFRESH_STEP_DELAY", 0.0125)
    monkeypatch.setattr(refresh_run, "time", type("Clock", (), {"sleep": staticmethod(
        lambda seconds: seen.setdefault("delay", seconds))}))
    project = first_project()
    job = start_project_refresh(db.session, project, user_by_email("pm@ridgeline.test"))
    tasks.refresh_project_cost_codes_task.call_local(job.id)
    db.session.refresh(job)
    assert job.status == "succeeded" and seen["delay"] == 0.0125


def test_sage300_code_not_fitting_the_company_mask_is_skipped_and_named(app):
    project = first_project("harbor-point")
    add_company_code("harbor-point", "05-1000", "Long section")
    job = run_refresh(project, "pm@harborpoint.test")
    assert "05-1000" not in project_codes(project)
    assert [item["code"] for item in job.skipped] == ["05-1000"]
    assert "does not fit 99-999" in job.skipped[0]["reason"]
    assert job.status == "succeeded"


def test_company_code_listed_invalid_is_skipped_with_its_reason(app):
    project = first_project()
    reason = 'Cost code "7990.000" is in division 7000, which Sage lacks.'
    add_company_code("ridgeline", "7990.000", "Roof hatch", division="7000", invalid_reason=reason)
    job = run_refresh(project)
    assert "7990.000" not in project_codes(project)
    assert job.skipped == [{"code": "7990.000", "reason": reason}]
