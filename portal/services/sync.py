"""The data sync between a company and its ERP.

One run per company (the partial unique index on sync_runs keeps runs of a company from
overlapping), in steps that are each idempotent and recorded on the run:

1. pull cost types and standard cost codes (each code validated; a bad one is listed and skipped)
2. pull ERP jobs (a job no project has shows under Ready to Import)
3. create ERP jobs for the projects accepted under Ready to Export
4. export approved cost code update requests (the request is the outbox; every line keeps its
   own export state, committed a batch at a time with the ERP's answers, so a crash loses
   nothing, and a batch sent again is answered "unchanged", so nothing is exported twice)
5. export contracts and change orders, never before their project's cost codes

An item that fails (a line, a job, a commitment) is recorded with its message and retried on
the next run; an ERP that cannot be read fails its step and the run goes on with the next; an
unexpected error stops the run, which is then marked failed with the message.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import zip_longest
from operator import attrgetter
from typing import Any

from sqlalchemy import case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.bulk import slices, update_rows
from portal.erp import formats
from portal.erp.base import (
    FORMAT_ERRORS,
    CommitmentExport,
    ErpConnector,
    ErpError,
    ExportLine,
    LineResult,
    export_jobs,
)
from portal.erp.reference import ReferenceErp
from portal.models import (
    SYNC_SCHEDULES,
    Commitment,
    Company,
    CostCodeUpdateRequest,
    CostType,
    CostTypeAssignment,
    ErpJob,
    Project,
    ProjectCostCode,
    StandardCostCode,
    SyncRun,
    UpdateRequestLine,
    User,
    utcnow,
)
from portal.services import NotFound, ServiceError, transaction
from portal.services.audit import event_values, record_event, record_events, recorded_actor
from portal.services.code_format import mark_invalid_standard_codes

SCHEDULE_INTERVALS: dict[str, timedelta | None] = {
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "2h": timedelta(hours=2),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
    "never": None,
}
assert set(SCHEDULE_INTERVALS) == set(SYNC_SCHEDULES)

# A run whose worker died keeps status "running"; after this long without a heartbeat it no
# longer blocks the company's next run.
STALE_AFTER = timedelta(minutes=30)

STEP_LABELS = {
    "codes": "Cost types and cost codes",
    "jobs": "ERP jobs",
    "new_jobs": "New ERP jobs",
    "cost_codes": "Cost code exports",
    "commitments": "Contracts and change orders",
}
RUN_STATES = {
    "queued": "Queued",
    "running": "Running",
    "succeeded": "Succeeded",
    "partial": "Finished with failures",
    "failed": "Failed",
}
# Requests whose codes are not in the ERP yet: their project's contracts wait for them.
UNEXPORTED_REQUEST_STATES = ("requested", "approved", "failed")
EXPORTED_OUTCOMES = {"created", "merged_cost_type", "description_kept", "unchanged"}
# Lines per ERP call, across as many requests and jobs as fit: a few calls for 10,000 lines
# (each call and each transaction has a cost of its own), small enough that a heartbeat is
# written often and neither database is locked for long.
EXPORT_BATCH = 2000


def next_sync_time(schedule: str, after: datetime) -> datetime | None:
    interval = SCHEDULE_INTERVALS.get(schedule)
    return None if interval is None else after + interval


def _company(session: Session, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound(f"There is no company with the id {company_id}.")
    return company


def _next_run_number(session: Session, company_id: int) -> int:
    last = session.scalar(
        select(func.max(SyncRun.run_number)).where(SyncRun.company_id == company_id)
    )
    return (last or 0) + 1


def _fail_stale_runs(session: Session, company: Company, now: datetime) -> None:
    stale = session.scalars(
        select(SyncRun).where(
            SyncRun.company_id == company.id,
            SyncRun.status.in_(("queued", "running")),
            func.coalesce(SyncRun.heartbeat_at, SyncRun.started_at) < now - STALE_AFTER,
        )
    ).all()
    if not stale:
        return
    with transaction(session):
        for run in stale:
            message = (
                "The sync never started: is the background worker running?"
                if run.status == "queued"
                else "The sync stopped without finishing (its worker was stopped); "
                "its finished items are kept and the rest is retried."
            )
            run.status = "failed"
            run.finished_at = now
            run.errors = [*run.errors, {"step": "", "item": "", "message": message}]
            record_event(
                session, company_id=company.id, actor=None, action="sync.abandon",
                object_type="sync_run", object_id=run.id, object_label=f"Sync run {run.run_number}",
                details={"message": message},
            )


def active_run(session: Session, company_id: int) -> SyncRun | None:
    return session.scalar(
        select(SyncRun)
        .where(SyncRun.company_id == company_id, SyncRun.status.in_(("queued", "running")))
        .order_by(SyncRun.id.desc())
        .limit(1)
    )


def recent_runs(session: Session, company_id: int, limit: int = 20) -> list[SyncRun]:
    return list(
        session.scalars(
            select(SyncRun)
            .where(SyncRun.company_id == company_id)
            .order_by(SyncRun.id.desc())
            .limit(limit)
        )
    )


def queue_sync(
    session: Session, company_id: int, *, actor: User | None, now: datetime | None = None
) -> SyncRun:
    """Sync Now: a queued run shows at once; the background task starts it."""
    now = now or utcnow()
    company = _company(session, company_id)
    _fail_stale_runs(session, company, now)
    running = active_run(session, company.id)
    if running is not None:
        raise ServiceError(
            f"A sync of {company.name} is already running (run {running.run_number}, "
            f"started {running.started_at:%Y-%m-%d %H:%M} UTC)."
        )
    with transaction(session):
        run = SyncRun(
            company_id=company.id, run_number=_next_run_number(session, company.id),
            trigger="manual", requested_by_id=actor.id if actor else None, status="queued",
            started_at=now, heartbeat_at=now, counts={}, invalid_codes=[], errors=[],
        )
        session.add(run)
        session.flush()
        record_event(
            session, company_id=company.id, actor=actor, action="sync.request",
            object_type="sync_run", object_id=run.id, object_label=f"Sync run {run.run_number}",
        )
    return run


def set_sync_schedule(
    session: Session, company_id: int, schedule: str, *, actor: User | None,
    now: datetime | None = None,
) -> Company:
    now = now or utcnow()
    company = _company(session, company_id)
    if schedule not in SYNC_SCHEDULES:
        raise ServiceError(
            f'"{formats.shown(schedule or "")}" is not a sync schedule; choose one of '
            f"{', '.join(SYNC_SCHEDULES.values())}."
        )
    with transaction(session):
        previous = company.sync_schedule
        company.sync_schedule = schedule
        due = next_sync_time(schedule, company.last_sync_at or now)
        company.next_sync_at = None if due is None else max(due, now)
        record_event(
            session, company_id=company.id, actor=actor, action="sync.schedule",
            object_type="company", object_id=company.id, object_label=company.name,
            details={"from": SYNC_SCHEDULES.get(previous, previous), "to": SYNC_SCHEDULES[schedule]},
        )
    return company


def claim_due_syncs(session: Session, now: datetime | None = None) -> list[int]:
    """The companies whose scheduled sync is due; their next time moves on at once so the
    next minute's tick does not start them again while this run is queued."""
    now = now or utcnow()
    with transaction(session):
        due = session.scalars(
            select(Company)
            .where(
                Company.sync_schedule != "never",
                or_(Company.next_sync_at.is_(None), Company.next_sync_at <= now),
            )
            .order_by(Company.id)
        ).all()
        for company in due:
            company.next_sync_at = next_sync_time(company.sync_schedule, now)
        return [company.id for company in due]


def run_company_sync(
    session: Session,
    company_id: int,
    *,
    connector: ErpConnector,
    trigger: str = "schedule",
    actor: User | None = None,
    run_id: int | None = None,
    now: Callable[[], datetime] = utcnow,
) -> SyncRun:
    """Run every step of one company's sync; returns the finished run.

    Raises ServiceError when a run of the company is already running.
    """
    run = _start_run(session, company_id, trigger=trigger, actor=actor, run_id=run_id, now=now())
    sync = _Sync(session, run, connector, actor, now)
    try:
        sync.pull_standard_codes()
        sync.pull_jobs()
        sync.create_accepted_jobs()
        sync.export_cost_code_requests()
        sync.export_commitments()
    except Exception as error:  # noqa: BLE001 (an unexpected error stops the run, recorded)
        session.rollback()
        sync.finish(abort_message=f"The sync stopped: {error}")
    else:
        sync.finish()
    return run


def _start_run(
    session: Session, company_id: int, *, trigger: str, actor: User | None, run_id: int | None,
    now: datetime,
) -> SyncRun:
    company = _company(session, company_id)
    name = company.name
    _fail_stale_runs(session, company, now)
    try:
        with transaction(session):
            run = session.get(SyncRun, run_id) if run_id is not None else None
            if run is None or run.company_id != company.id or run.status != "queued":
                run = SyncRun(
                    company_id=company.id, run_number=_next_run_number(session, company.id),
                    trigger=trigger, requested_by_id=actor.id if actor else None,
                    counts={}, invalid_codes=[], errors=[],
                )
                session.add(run)
            run.status = "running"
            run.started_at = now
            run.heartbeat_at = now
            session.flush()
    except IntegrityError:
        message = f"A sync of {name} is already running."
        if run_id is not None:
            _drop_queued_run(session, run_id, message, now)
        raise ServiceError(message) from None
    return run


def fail_queued_run(
    session: Session, company_id: int, run_id: int | None, trigger: str, message: str,
    now: datetime | None = None,
) -> SyncRun:
    """Record a run that could not start (no usable connector), so the Sync tab says why."""
    now = now or utcnow()
    with transaction(session):
        run = session.get(SyncRun, run_id) if run_id is not None else None
        if run is None or run.company_id != company_id or run.status != "queued":
            run = SyncRun(
                company_id=company_id, run_number=_next_run_number(session, company_id),
                trigger=trigger, started_at=now, counts={}, invalid_codes=[],
            )
            session.add(run)
        run.status = "failed"
        run.finished_at = now
        run.errors = [{"step": "", "item": "", "message": message[:500]}]
        session.flush()
        record_event(
            session, company_id=company_id, actor=None, action="sync.run", object_type="sync_run",
            object_id=run.id, object_label=f"Sync run {run.run_number}",
            details={"status": "failed", "errors": run.errors},
        )
    return run


def _drop_queued_run(session: Session, run_id: int, message: str, now: datetime) -> None:
    with transaction(session):
        run = session.get(SyncRun, run_id)
        if run is not None and run.status == "queued":
            run.status = "failed"
            run.finished_at = now
            run.errors = [{"step": "", "item": "", "message": message}]


@dataclass(slots=True)
class _OutboxLine:
    id: int
    code: str
    description: str
    division: str
    cost_type_code: str
    assignment_id: int | None
    export_state: str
    export_outcome: str | None
    export_message: str | None


@dataclass
class _OutboxRequest:
    """An approved request as the export needs it: plain values, not ORM objects, since a
    sync may export thousands of lines and the ORM's per-object work would cost more."""

    id: int
    project_id: int
    project_number: str
    project_name: str
    job_number: str | None
    lines: list[_OutboxLine] = field(default_factory=list)
    gave_up: bool = False  # the ERP could not take a part of it: the rest waits for the next run

    @property
    def project_label(self) -> str:
        return f"{self.project_number} {self.project_name}"  # as Project.label


class _Sync:
    """One run's steps. Every database change is committed as soon as it matches the ERP."""

    def __init__(
        self, session: Session, run: SyncRun, connector: ErpConnector, actor: User | None,
        now: Callable[[], datetime],
    ):
        self.session = session
        self.run = run
        self.connector = connector
        self.actor = recorded_actor(actor)
        self.now = now
        self.company_id = run.company_id
        self.run_id, self.run_number = run.id, run.run_number
        company = _company(session, run.company_id)
        self.erp_system = company.erp_system
        self.mask = company.mask  # Sage 300 CRE: every code must fit the company's mask
        self.failures = 0

    # -- bookkeeping ---------------------------------------------------------------------

    def _idle(self) -> None:
        """End the read transaction before asking the ERP: an ERP call may be slow, and on
        SQLite every transaction holds the database's write lock."""
        self.session.commit()

    @property
    def company(self) -> Company:
        return self.session.get(Company, self.company_id)

    def _record(self, step: str, counts: dict[str, int]) -> None:
        self.run.counts = {**self.run.counts, step: counts}
        self.run.heartbeat_at = self.now()

    def _error(self, step: str, item: str, message: str) -> None:
        self.failures += 1
        entry = {"step": STEP_LABELS[step], "item": item, "message": message[:500]}
        self.run.errors = [*self.run.errors, entry]

    def _step_failed(self, step: str, error: Exception) -> None:
        """The ERP could not be read for this step: nothing of it is stored, the run goes on."""
        self.session.rollback()
        with transaction(self.session):
            self._error(step, "", str(error))
            self._record(step, {**self.run.counts.get(step, {}), "failed": 1})

    # -- 1. cost types and standard cost codes ----------------------------------------------

    def pull_standard_codes(self) -> None:
        self._idle()
        try:
            erp_types = self.connector.fetch_cost_types()
            erp_codes = self.connector.fetch_standard_cost_codes()
            if not erp_codes:
                raise ErpError(
                    "The ERP returned no cost codes; the stored ERP Standard Cost Code list is "
                    "kept as it is."
                )
        except ErpError as error:
            self._step_failed("codes", error)
            return
        # Rows of a cost code file that could not even be split into columns.
        invalid: list[dict[str, Any]] = [
            {"code": "", "reason": message}
            for message in getattr(self.connector, "last_file_errors", [])
        ]
        with transaction(self.session):
            counts = Counter(self._merge_cost_types(erp_types, invalid))
            counts.update(self._merge_standard_codes(erp_codes, invalid))
            # A stored code the ERP now lists in a form it would refuse stays, marked invalid.
            mark_invalid_standard_codes(self.session, self.company_id, {
                (entry["code"] or "").strip(): entry["reason"] for entry in invalid if entry["code"]
            })
            counts["invalid"] = len(invalid)
            self.run.invalid_codes = invalid
            self._record("codes", dict(counts))

    def _merge_cost_types(self, erp_types, invalid: list[dict[str, Any]]) -> Counter:
        counts: Counter = Counter(cost_types_added=0, cost_types_updated=0)
        stored = {
            cost_type.code: cost_type
            for cost_type in self.session.scalars(
                select(CostType).where(CostType.company_id == self.company_id)
            )
        }
        for erp_type in erp_types:
            try:
                code = formats.validate_cost_type(self.erp_system, erp_type.code)
            except formats.CostTypeError as error:
                invalid.append({"code": erp_type.code, "reason": str(error)})
                continue
            name = (erp_type.name or "").strip()[:60] or code
            cost_type = stored.get(code)
            if cost_type is None:
                stored[code] = CostType(company_id=self.company_id, code=code, name=name)
                self.session.add(stored[code])
                counts["cost_types_added"] += 1
            elif cost_type.name != name:
                cost_type.name = name
                counts["cost_types_updated"] += 1
        return counts

    def _merge_standard_codes(self, erp_codes, invalid: list[dict[str, Any]]) -> Counter:
        counts: Counter = Counter(codes_added=0, codes_updated=0, codes_deactivated=0)
        valid: dict[str, tuple[str, str]] = {}
        listed: set[str] = set()  # every code the ERP has, even one it holds in a bad format
        for erp_code in erp_codes:
            listed.add((erp_code.code or "").strip())
            if erp_code.problem:
                invalid.append({"code": erp_code.code, "reason": erp_code.problem})
                continue
            try:
                code = formats.validate_cost_code(self.erp_system, erp_code.code, self.mask)
                description = formats.validate_description(self.erp_system, erp_code.description)
            except FORMAT_ERRORS as error:
                invalid.append({"code": erp_code.code, "reason": str(error)})
                continue
            if code in valid:
                invalid.append({
                    "code": erp_code.code,
                    "reason": f'Cost code "{code}" is listed twice in the ERP; the first is kept.',
                })
                continue
            division = (erp_code.division or "").strip()[:40]
            valid[code] = (description, division or formats.division_of(self.erp_system, code, self.mask))
        listed |= set(valid)

        # Plain rows, not ORM objects: a company's list holds tens of thousands of codes and
        # a sync every few minutes mostly finds them unchanged.
        stored = {
            code: {
                "id": code_id, "description": description, "division": division,
                "division_name": division_name, "active": active,
            }
            for code_id, code, description, division, division_name, active in self.session.execute(
                select(
                    StandardCostCode.id, StandardCostCode.code, StandardCostCode.description,
                    StandardCostCode.division, StandardCostCode.division_name, StandardCostCode.active,
                ).where(StandardCostCode.company_id == self.company_id)
            )
        }
        division_names = {c["division"]: c["division_name"] for c in stored.values() if c["division_name"]}
        added: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        now = utcnow()
        for code, (description, division) in valid.items():
            standard = stored.get(code)
            if standard is None:
                added.append({
                    "company_id": self.company_id, "code": code, "description": description,
                    "division": division, "division_name": division_names.get(division, ""),
                })
                continue
            if (standard["description"], standard["division"], standard["active"]) != (
                description, division, True
            ):
                if standard["division"] != division:
                    standard["division_name"] = division_names.get(division, standard["division_name"])
                changed.append({
                    "id": standard["id"], "description": description, "division": division,
                    "division_name": standard["division_name"], "active": True, "updated_at": now,
                })
        deactivated = [
            {"id": standard["id"], "active": False, "updated_at": now}
            for code, standard in stored.items()
            if code not in listed and standard["active"]
        ]
        for rows in (changed, deactivated):
            if rows:
                self.session.execute(update(StandardCostCode), rows)
        if added:
            self.session.execute(insert(StandardCostCode), added)
        counts.update(codes_added=len(added), codes_updated=len(changed), codes_deactivated=len(deactivated))
        if counts["codes_added"] or counts["codes_updated"] or counts["codes_deactivated"]:
            self.company.standard_codes_changed_at = self.now()
        counts["codes_in_erp"] = len(valid)
        return counts

    # -- 2. ERP jobs -----------------------------------------------------------------------

    def pull_jobs(self) -> None:
        self._idle()
        try:
            erp_jobs = self.connector.fetch_jobs()
        except ErpError as error:
            self._step_failed("jobs", error)
            return
        with transaction(self.session):
            counts = Counter(jobs_in_erp=0, jobs_new=0)
            # Plain rows, as for the cost codes: thousands of jobs, mostly unchanged.
            stored = {
                number: {
                    "id": job_id, "number": number, "name": name, "project_id": project_id, "hidden": hidden,
                }
                for job_id, number, name, project_id, hidden in self.session.execute(
                    select(ErpJob.id, ErpJob.number, ErpJob.name, ErpJob.project_id, ErpJob.hidden).where(
                        ErpJob.company_id == self.company_id
                    )
                )
            }
            projects_by_job: dict[str, int] = dict(
                self.session.execute(  # rows of (job number, project id)
                    select(Project.erp_job_number, Project.id).where(
                        Project.company_id == self.company_id, Project.erp_job_number.is_not(None)
                    )
                ).all()
            )
            changed: dict[int, dict[str, Any]] = {}
            for erp_job in erp_jobs:
                try:
                    number = formats.validate_job_number(erp_job.number, self.erp_system)
                except formats.JobNumberError as error:
                    self._error("jobs", erp_job.number, str(error))
                    continue
                counts["jobs_in_erp"] += 1
                name = (erp_job.name or "").strip()[:200] or number
                job = stored.get(number)
                if job is None:
                    job = stored[number] = {
                        "id": None, "number": number, "name": name, "project_id": None, "hidden": False,
                    }
                    counts["jobs_new"] += 1
                project_id = projects_by_job.get(number)
                if job["name"] != name or (job["project_id"] is None and project_id is not None):
                    job["name"] = name
                    job["project_id"] = job["project_id"] or project_id
                    if job["id"] is not None:
                        changed[job["id"]] = {"id": job["id"], "name": name, "project_id": job["project_id"]}
            if changed:
                self.session.execute(update(ErpJob), list(changed.values()))
            added = [
                {"company_id": self.company_id, "number": job["number"], "name": job["name"],
                 "project_id": job["project_id"]}
                for job in stored.values()
                if job["id"] is None
            ]
            if added:
                self.session.execute(insert(ErpJob), added)
            counts["ready_to_import"] = sum(
                1 for job in stored.values() if job["project_id"] is None and not job["hidden"]
            )
            self._record("jobs", dict(counts))

    # -- 3. ERP jobs for accepted projects ---------------------------------------------------

    def create_accepted_jobs(self) -> None:
        counts = Counter(jobs_created=0, jobs_failed=0)
        project_ids = self.session.scalars(
            select(Project.id)
            .where(Project.company_id == self.company_id, Project.erp_link_state == "accepted")
            .order_by(Project.number)
        ).all()
        for project_id in project_ids:
            project = self.session.get(Project, project_id)
            number = project.erp_job_number or project.number
            taken_by = self.session.scalar(
                select(ErpJob.project_id).where(
                    ErpJob.company_id == self.company_id, ErpJob.number == number,
                    ErpJob.project_id.is_not(None), ErpJob.project_id != project.id,
                )
            )
            try:
                if taken_by is not None:
                    raise ErpError(
                        f'ERP job "{number}" already belongs to another project; use '
                        "Link to existing job or change the project number."
                    )
                name = project.name
                self._idle()
                job = self.connector.create_job(number, name)
            except (ErpError, *FORMAT_ERRORS) as error:
                with transaction(self.session):
                    project = self.session.get(Project, project_id)
                    project.erp_link_message = str(error)[:500]
                    self._error("new_jobs", project.label, str(error))
                    counts["jobs_failed"] += 1
                    self._record("new_jobs", dict(counts))
                continue
            with transaction(self.session):
                project = self.session.get(Project, project_id)
                project.erp_job_number = job.number
                project.erp_link_state = "linked"
                project.erp_link_message = None
                erp_job = self.session.scalar(
                    select(ErpJob).where(
                        ErpJob.company_id == self.company_id, ErpJob.number == job.number
                    )
                )
                if erp_job is None:
                    erp_job = ErpJob(company_id=self.company_id, number=job.number, name=job.name)
                    self.session.add(erp_job)
                erp_job.project_id = project.id
                record_event(
                    self.session, company_id=self.company_id, actor=self.actor,
                    action="erp_job.create", object_type="project", object_id=project.id,
                    object_label=project.label, project_id=project.id,
                    details={"erp_job": job.number, "sync_run": self.run_number},
                )
                counts["jobs_created"] += 1
                self._record("new_jobs", dict(counts))
        if "new_jobs" not in self.run.counts:
            with transaction(self.session):
                self._record("new_jobs", dict(counts))

    # -- 4. approved cost code update requests -----------------------------------------------

    def export_cost_code_requests(self) -> None:
        self.export_counts: Counter = Counter(
            requests_exported=0, requests_failed=0, lines_exported=0, lines_failed=0
        )
        # Whole requests are packed into batches of about EXPORT_BATCH lines (a bigger request
        # is split): one ERP call and one transaction per batch, whatever the number of jobs.
        batch: list[tuple[_OutboxRequest, list[_OutboxLine], bool]] = []
        batch_lines = 0
        for request in self._read_outbox():
            if not request.job_number:
                self._request_failed(
                    request.id,
                    f"Project {request.project_label} has no ERP job yet; accept it under Ready to "
                    "Export or link it to an existing job.",
                )
                continue
            pending = [line for line in request.lines if line.export_state != "exported"]
            # A request with nothing left to send still takes part, to be closed.
            parts = list(slices(pending, EXPORT_BATCH)) or [[]]
            for index, part in enumerate(parts):
                if batch and batch_lines + len(part) > EXPORT_BATCH:
                    self._export_batch(batch)
                    batch, batch_lines = [], 0
                batch.append((request, part, index == len(parts) - 1))
                batch_lines += len(part)
        if batch:
            self._export_batch(batch)
        with transaction(self.session):
            self._record("cost_codes", dict(self.export_counts))

    def _read_outbox(self) -> list[_OutboxRequest]:
        """The approved (and earlier failed) requests with all their lines, in two queries."""
        in_outbox = (
            CostCodeUpdateRequest.company_id == self.company_id,
            CostCodeUpdateRequest.status.in_(("approved", "failed")),
        )
        requests = {
            request_id: _OutboxRequest(
                id=request_id, project_id=project_id, project_number=number, project_name=name,
                job_number=job_number if link_state == "linked" else None,
            )
            for request_id, project_id, number, name, job_number, link_state in self.session.execute(
                select(
                    CostCodeUpdateRequest.id, Project.id, Project.number, Project.name,
                    Project.erp_job_number, Project.erp_link_state,
                )
                .join(Project, Project.id == CostCodeUpdateRequest.project_id)
                .where(*in_outbox)
                .order_by(CostCodeUpdateRequest.approved_at, CostCodeUpdateRequest.id)
            )
        }
        # Plain rows on the connection, fetched all at once: the ORM's result handling, or a
        # row at a time, doubles the time of 10,000 rows. The requests as a subquery, not a
        # join, so that the lines come in the order of their (request, code, cost type) index
        # instead of being sorted afterwards.
        rows = self.session.connection().execute(
            select(
                UpdateRequestLine.request_id, UpdateRequestLine.id, UpdateRequestLine.code,
                UpdateRequestLine.description, UpdateRequestLine.division,
                UpdateRequestLine.cost_type_code, UpdateRequestLine.assignment_id,
                UpdateRequestLine.export_state, UpdateRequestLine.export_outcome,
                UpdateRequestLine.export_message,
            )
            .where(UpdateRequestLine.request_id.in_(select(CostCodeUpdateRequest.id).where(*in_outbox)))
            .order_by(UpdateRequestLine.request_id, UpdateRequestLine.code, UpdateRequestLine.cost_type_code)
        ).all()
        for row in rows:
            request = requests.get(row[0])
            if request is not None:  # approved after the first query: next run takes it
                request.lines.append(_OutboxLine(*row[1:]))
        return list(requests.values())

    def _export_batch(self, batch: list[tuple[_OutboxRequest, list[_OutboxLine], bool]]) -> None:
        lines_by_job: dict[str, list[ExportLine]] = {}
        for request, part, _last in batch:
            if not request.gave_up:
                lines_by_job.setdefault(request.job_number, []).extend(
                    ExportLine(line.code, line.description, line.cost_type_code, line.division or None)
                    for line in part
                )
        self._idle()
        # The ERP's export is idempotent, so a crash between this call and the transaction
        # below only means the batch is sent again next run and answered "unchanged": nothing
        # is exported twice or lost.
        answers = export_jobs(self.connector, lines_by_job) if lines_by_job else {}
        now = self.now()
        with transaction(self.session):
            taken: Counter = Counter()  # each job's results used so far, in line order
            results: dict[tuple[str, str | None, str | None], list[int]] = {}
            exported_assignments: list[int] = []
            closed: list[_OutboxRequest] = []
            for request, part, last in batch:
                if request.gave_up:
                    continue
                answer = answers.get(request.job_number, [])
                if isinstance(answer, ErpError):
                    # The ERP gave no answer for these lines: they stay pending, the request failed.
                    request.gave_up = True
                    self._fail_request(request.id, str(answer))
                    continue
                start = taken[request.job_number]
                taken[request.job_number] += len(part)
                for line, result in zip_longest(part, answer[start:start + len(part)]):
                    if result is None:
                        result = LineResult(
                            line.code, line.cost_type_code, "failed", "The ERP gave no result for the line."
                        )
                    # Inline, and counted per group of answers afterwards: this runs for
                    # every line of a sync, 10,000 at a time.
                    outcome = result.outcome
                    message = (result.message or "")[:500] or None
                    state = "exported" if outcome in EXPORTED_OUTCOMES else "failed"
                    line.export_state, line.export_outcome, line.export_message = state, outcome, message
                    line_ids = results.get((state, outcome, message))
                    if line_ids is None:
                        line_ids = results[state, outcome, message] = []
                    line_ids.append(line.id)
                    if state == "exported" and line.assignment_id is not None:
                        exported_assignments.append(line.assignment_id)
                if last:
                    closed.append(request)
            self._count_lines(results)
            # Straight to the connection: nothing loaded in the session needs to hear of these
            # (the commit expires every object), and thousands of rows take the same few values.
            connection = self.session.connection()
            for (state, outcome, message), line_ids in results.items():
                update_rows(
                    connection, UpdateRequestLine.__table__, line_ids,
                    export_state=state, export_outcome=outcome, export_message=message,
                    **({"exported_at": now} if state == "exported" else {}),
                )
            update_rows(connection, CostTypeAssignment.__table__, exported_assignments, erp_state="exported")
            self._close_requests(closed, now)
            # Not through the run object: every commit expires it, and flushing a change to it
            # reads the whole run back first.
            update_rows(connection, SyncRun.__table__, [self.run_id], heartbeat_at=now)

    def _count_lines(self, results: dict[tuple[str, str | None, str | None], list[int]]) -> None:
        """The run's line counts, from a batch's lines grouped by their answer."""
        for (state, outcome, _message), line_ids in results.items():
            if state == "exported":
                self.export_counts["lines_exported"] += len(line_ids)
                self.export_counts[f"lines_{outcome}"] += len(line_ids)
            else:
                self.export_counts["lines_failed"] += len(line_ids)

    def _close_requests(self, requests: list[_OutboxRequest], now: datetime) -> None:
        """Requests whose every line has had its answer: exported, or failed with the lines
        that failed; one audit event each."""
        exported = []
        events = []
        for request in requests:
            failed = [line for line in request.lines if line.export_state != "exported"]
            error = None
            if not failed:
                exported.append(request.id)
                self.export_counts["requests_exported"] += 1
                action = "cost_code_request.export"
            else:
                error = "; ".join(
                    f"{line.code} / {line.cost_type_code}: {line.export_message}" for line in failed
                )[:1000]
                update_rows(
                    self.session.connection(), CostCodeUpdateRequest.__table__, [request.id],
                    status="failed", last_error=error,
                )
                self.export_counts["requests_failed"] += 1
                for line in failed:
                    self._error(
                        "cost_codes", f"{request.project_number} {line.code} / {line.cost_type_code}",
                        line.export_message or "Not exported.",
                    )
                action = "cost_code_request.export_failed"
            outcomes = Counter(map(attrgetter("export_outcome"), request.lines))
            outcomes.pop(None, None)  # lines never answered
            events.append(event_values(
                company_id=self.company_id, actor=self.actor, action=action,
                object_type="cost_code_update_request", object_id=request.id,
                object_label=f"{request.project_label}: cost code update", project_id=request.project_id,
                details={
                    "erp_job": request.job_number, "sync_run": self.run_number,
                    "outcomes": dict(outcomes), "error": error,
                },
            ))
        record_events(self.session, events)
        update_rows(
            self.session.connection(), CostCodeUpdateRequest.__table__, exported,
            status="exported", exported_at=now, last_error=None,
        )

    def _request_failed(self, request_id: int, message: str) -> None:
        self.session.rollback()
        with transaction(self.session):
            self._fail_request(request_id, message)

    def _fail_request(self, request_id: int, message: str) -> None:
        request = self.session.get(CostCodeUpdateRequest, request_id)
        project = request.project
        request.status = "failed"
        request.last_error = message[:1000]
        self.export_counts["requests_failed"] += 1
        self._error("cost_codes", project.label, message)
        record_event(
            self.session, company_id=self.company_id, actor=self.actor,
            action="cost_code_request.export_failed", object_type="cost_code_update_request",
            object_id=request.id, object_label=f"{project.label}: cost code update",
            project_id=project.id,
            details={"sync_run": self.run_number, "error": request.last_error},
        )

    # -- 5. contracts and change orders ------------------------------------------------------

    def export_commitments(self) -> None:
        counts = Counter(commitments_exported=0, commitments_failed=0)
        waiting_projects = select(CostCodeUpdateRequest.project_id).where(
            CostCodeUpdateRequest.company_id == self.company_id,
            CostCodeUpdateRequest.status.in_(UNEXPORTED_REQUEST_STATES),
        )
        to_export = select(Commitment.id).where(
            Commitment.company_id == self.company_id,
            Commitment.status.in_(("export_requested", "failed")),
        )
        counts["commitments_waiting_for_cost_codes"] = len(self.session.scalars(
            to_export.where(Commitment.project_id.in_(waiting_projects))
        ).all())
        commitment_ids = self.session.scalars(
            to_export.where(Commitment.project_id.not_in(waiting_projects)).order_by(
                Commitment.project_id,
                case((Commitment.kind == "contract", 0), else_=1),
                Commitment.number,
            )
        ).all()
        for commitment_id in commitment_ids:
            commitment = self.session.get(Commitment, commitment_id)
            project = commitment.project
            job_number = project.erp_job_number if project.erp_link_state == "linked" else None
            export = CommitmentExport(
                number=commitment.number, title=commitment.title, kind=commitment.kind,
                amount_cents=commitment.amount_cents,
                parent_number=commitment.parent.number if commitment.parent else None,
            )
            label = f"{project.number} {commitment.kind_label} {commitment.number}"
            project_id, project_label = project.id, project.label
            self._idle()
            if not job_number:
                outcome, message = "failed", f"Project {project_label} has no ERP job yet."
            else:
                try:
                    result = self.connector.export_commitment(job_number, export)
                    outcome, message = result.outcome, result.message
                except ErpError as error:
                    outcome, message = "failed", str(error)
            with transaction(self.session):
                commitment = self.session.get(Commitment, commitment_id)
                if outcome == "failed":
                    commitment.status = "failed"
                    commitment.export_error = message[:500]
                    counts["commitments_failed"] += 1
                    self._error("commitments", label, message)
                else:
                    commitment.status = "exported"
                    commitment.exported_at = self.now()
                    commitment.export_error = None
                    counts["commitments_exported"] += 1
                record_event(
                    self.session, company_id=self.company_id, actor=self.actor,
                    action="commitment.export" if outcome != "failed" else "commitment.export_failed",
                    object_type="commitment", object_id=commitment.id, object_label=label,
                    project_id=project_id,
                    details={"erp_job": job_number, "outcome": outcome, "message": message,
                             "sync_run": self.run_number},
                )
                self._record("commitments", dict(counts))
        with transaction(self.session):
            self._record("commitments", dict(counts))

    # -- the end -------------------------------------------------------------------------------

    def finish(self, abort_message: str | None = None) -> None:
        with transaction(self.session):
            run = self.run
            finished = self.now()
            if abort_message is not None:
                run.status = "failed"
                run.errors = [*run.errors, {"step": "", "item": "", "message": abort_message[:500]}]
            else:
                run.status = "partial" if self.failures else "succeeded"
            run.finished_at = finished
            run.heartbeat_at = finished
            company = self.company
            company.last_sync_at = finished
            company.next_sync_at = next_sync_time(company.sync_schedule, run.started_at)
            record_event(
                self.session, company_id=self.company_id, actor=self.actor, action="sync.run",
                object_type="sync_run", object_id=run.id, object_label=f"Sync run {run.run_number}",
                details={
                    "trigger": run.trigger, "status": run.status, "counts": run.counts,
                    "invalid_codes": len(run.invalid_codes), "errors": run.errors[:20],
                },
            )



def seed_reference_erp(session: Session, erp: ReferenceErp) -> dict[str, int]:
    """Make the reference ERP hold what the portal's companies already have in their ERP: the
    companies, cost types, standard cost codes, jobs and the codes already exported to each
    job. Safe to repeat (every ERP action used is idempotent)."""
    counts: Counter = Counter()
    for company in session.scalars(select(Company).order_by(Company.id)):
        erp.ensure_company(company.slug, company.erp_system)
        for cost_type in company.cost_types:
            erp.add_cost_type(company.slug, cost_type.code, cost_type.name)
        for standard in session.scalars(
            select(StandardCostCode).where(StandardCostCode.company_id == company.id)
        ):
            erp.add_standard_cost_code(
                company.slug, standard.code, standard.description, standard.division
            )
            counts["cost_codes"] += 1
        connector = erp.connector(company.slug)
        projects = session.scalars(
            select(Project)
            .where(Project.company_id == company.id, Project.erp_job_number.is_not(None))
            .order_by(Project.number)
        )
        for project in projects:
            erp.add_job(company.slug, project.erp_job_number, project.name)
            counts["jobs"] += 1
            exported = session.execute(
                select(ProjectCostCode, CostType.code)
                .join(CostTypeAssignment, CostTypeAssignment.project_cost_code_id == ProjectCostCode.id)
                .join(CostType, CostType.id == CostTypeAssignment.cost_type_id)
                .where(
                    ProjectCostCode.project_id == project.id,
                    CostTypeAssignment.erp_state == "exported",
                )
                .order_by(ProjectCostCode.code, CostType.code)
            ).all()
            lines = [
                ExportLine(code.code, code.description, cost_type, code.division or None)
                for code, cost_type in exported
            ]
            if lines:
                connector.export_cost_code_lines(project.erp_job_number, lines)
                counts["job_cost_codes"] += len(lines)
        counts["companies"] += 1
    return dict(counts)
