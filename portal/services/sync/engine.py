"""The step engine: one company's sync run, its steps in order, and its end.

An item that fails (a line, a job, a commitment) is recorded with its message and retried on
the next run; an ERP that cannot be read fails its step and the run goes on with the next; an
unexpected error stops the run, which is then marked failed with the message.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import case, insert, select, update
from sqlalchemy.orm import Session

from portal.erp import formats
from portal.erp.base import FORMAT_ERRORS, CommitmentExport, ErpConnector, ErpError
from portal.models import (
    OPEN_REQUEST_STATES,
    Commitment,
    CommitmentStatus,
    CostCodeUpdateRequest,
    ErpJob,
    JobStatus,
    Project,
    SyncRun,
    User,
    utcnow,
)
from portal.services import transaction
from portal.services.audit import record_event
from portal.services.sync.codes import PullCostCodes
from portal.services.sync.differences import CompareWithErpJobs
from portal.services.sync.outbox import ExportCostCodeRequests
from portal.services.sync.runs import next_sync_time, start_run


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
    run = start_run(session, company_id, trigger=trigger, actor=actor, run_id=run_id, now=now())
    sync = CompanySync(session, run, connector, actor, now)
    try:
        sync.pull_standard_codes()
        sync.pull_jobs()
        sync.create_accepted_jobs()
        sync.export_cost_code_requests()
        sync.export_commitments()
        sync.compare_with_erp_jobs()
    except Exception as error:  # noqa: BLE001 (an unexpected error stops the run, recorded)
        session.rollback()
        sync.finish(abort_message=f"The sync stopped: {error}")
    else:
        sync.finish()
    return run


class CompanySync(PullCostCodes, ExportCostCodeRequests, CompareWithErpJobs):
    """One run's steps, each a method; the pulls of codes and the export of requests live in
    their own modules."""

    # -- 2. ERP jobs -----------------------------------------------------------------------

    def pull_jobs(self) -> None:
        self._commit_before_erp_call()
        try:
            erp_jobs = self.connector.fetch_jobs()
        except ErpError as error:
            self._fail_step("jobs", error)
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
                    self._record_failure("jobs", erp_job.number, str(error))
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
            self._record_counts("jobs", dict(counts))

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
                self._commit_before_erp_call()
                job = self.connector.create_job(number, name)
            except (ErpError, *FORMAT_ERRORS) as error:
                with transaction(self.session):
                    project = self.session.get(Project, project_id)
                    project.erp_link_message = str(error)[:500]
                    self._record_failure("new_jobs", project.label, str(error))
                    counts["jobs_failed"] += 1
                    self._record_counts("new_jobs", dict(counts))
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
                self._record_counts("new_jobs", dict(counts))
        if "new_jobs" not in self.run.counts:
            with transaction(self.session):
                self._record_counts("new_jobs", dict(counts))

    # -- 5. contracts and change orders ------------------------------------------------------

    def export_commitments(self) -> None:
        counts = Counter(commitments_exported=0, commitments_failed=0)
        waiting_projects = select(CostCodeUpdateRequest.project_id).where(
            CostCodeUpdateRequest.company_id == self.company_id,
            CostCodeUpdateRequest.status.in_(OPEN_REQUEST_STATES),
        )
        to_export = select(Commitment.id).where(
            Commitment.company_id == self.company_id,
            Commitment.status.in_((CommitmentStatus.EXPORT_REQUESTED, CommitmentStatus.FAILED)),
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
            self._commit_before_erp_call()
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
                    commitment.status = CommitmentStatus.FAILED
                    commitment.export_error = message[:500]
                    counts["commitments_failed"] += 1
                    self._record_failure("commitments", label, message)
                else:
                    commitment.status = CommitmentStatus.EXPORTED
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
                self._record_counts("commitments", dict(counts))
        with transaction(self.session):
            self._record_counts("commitments", dict(counts))

    # -- the end -------------------------------------------------------------------------------

    def finish(self, abort_message: str | None = None) -> None:
        with transaction(self.session):
            run = self.run
            finished = self.now()
            if abort_message is not None:
                run.status = JobStatus.FAILED
                run.errors = [*run.errors, {"step": "", "item": "", "message": abort_message[:500]}]
            else:
                run.status = JobStatus.PARTIAL if self.failures else JobStatus.SUCCEEDED
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
