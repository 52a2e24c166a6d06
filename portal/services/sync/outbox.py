"""Step 4 of a sync: export approved cost code update requests (the export outbox).

The request is the outbox: every line keeps its own export state, committed a batch at a time
with the ERP's answers, so a crash loses nothing; and a batch sent again is answered "unchanged",
so nothing is exported twice.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import zip_longest
from operator import attrgetter

from sqlalchemy import select

from portal.db.bulk import slices, update_rows
from portal.erp.base import ErpError, ExportLine, LineResult, export_jobs
from portal.models import (
    TO_EXPORT_REQUEST_STATES,
    AssignmentErpState,
    CostCodeUpdateRequest,
    CostTypeAssignment,
    LineExportState,
    Project,
    RequestStatus,
    SyncRun,
    UpdateRequestLine,
)
from portal.services import transaction
from portal.services.audit import event_values, record_event, record_events
from portal.services.notifications import queue_export_failed_mail
from portal.services.sync.step_base import SyncStepBase

EXPORTED_OUTCOMES = {"created", "merged_cost_type", "description_kept", "unchanged"}
# Lines per ERP call, across as many requests and jobs as fit: few calls for a big export (each
# call and each transaction has a cost of its own), yet small enough that a heartbeat is written
# often and neither database is locked for long.
EXPORT_BATCH = 2000


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


class ExportCostCodeRequests(SyncStepBase):
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
                self._roll_back_and_fail_request(
                    request.id,
                    f"Project {request.project_label} has no ERP job yet; accept it under Ready to "
                    "Export or link it to an existing job.",
                )
                continue
            pending = [line for line in request.lines if line.export_state != LineExportState.EXPORTED]
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
            self._record_counts("cost_codes", dict(self.export_counts))

    def _read_outbox(self) -> list[_OutboxRequest]:
        """The approved (and earlier failed) requests with all their lines, in two queries."""
        in_outbox = (
            CostCodeUpdateRequest.company_id == self.company_id,
            CostCodeUpdateRequest.status.in_(TO_EXPORT_REQUEST_STATES),
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
        # row at a time, would cost more than the query itself for a big export. The requests
        # as a subquery, not a join, so that the lines come in the order of their (request,
        # code, cost type) index instead of being sorted afterwards.
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
        self._commit_before_erp_call()
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
                    # every line of a sync.
                    outcome = result.outcome
                    message = (result.message or "")[:500] or None
                    exported = outcome in EXPORTED_OUTCOMES
                    state = LineExportState.EXPORTED if exported else LineExportState.FAILED
                    line.export_state, line.export_outcome, line.export_message = state, outcome, message
                    line_ids = results.get((state, outcome, message))
                    if line_ids is None:
                        line_ids = results[state, outcome, message] = []
                    line_ids.append(line.id)
                    if state == LineExportState.EXPORTED and line.assignment_id is not None:
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
                    **({"exported_at": now} if state == LineExportState.EXPORTED else {}),
                )
            update_rows(
                connection, CostTypeAssignment.__table__, exported_assignments,
                erp_state=AssignmentErpState.EXPORTED,
            )
            self._close_requests(closed, now)
            # Not through the run object: every commit expires it, and flushing a change to it
            # reads the whole run back first.
            update_rows(connection, SyncRun.__table__, [self.run_id], heartbeat_at=now)

    def _count_lines(self, results: dict[tuple[str, str | None, str | None], list[int]]) -> None:
        """The run's line counts, from a batch's lines grouped by their answer."""
        for (state, outcome, _message), line_ids in results.items():
            if state == LineExportState.EXPORTED:
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
            failed = [line for line in request.lines if line.export_state != LineExportState.EXPORTED]
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
                    status=RequestStatus.FAILED, last_error=error,
                )
                self.export_counts["requests_failed"] += 1
                for line in failed:
                    self._record_failure(
                        "cost_codes", f"{request.project_number} {line.code} / {line.cost_type_code}",
                        line.export_message or "Not exported.",
                    )
                action = "cost_code_request.export_failed"
                queue_export_failed_mail(self.session, request.id, error)  # tell the requester
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
            status=RequestStatus.EXPORTED, exported_at=now, last_error=None,
        )

    def _roll_back_and_fail_request(self, request_id: int, message: str) -> None:
        self.session.rollback()
        with transaction(self.session):
            self._fail_request(request_id, message)

    def _fail_request(self, request_id: int, message: str) -> None:
        request = self.session.get(CostCodeUpdateRequest, request_id)
        project = request.project
        request.status = RequestStatus.FAILED
        request.last_error = message[:1000]
        self.export_counts["requests_failed"] += 1
        self._record_failure("cost_codes", project.label, message)
        record_event(
            self.session, company_id=self.company_id, actor=self.actor,
            action="cost_code_request.export_failed", object_type="cost_code_update_request",
            object_id=request.id, object_label=f"{project.label}: cost code update",
            project_id=project.id,
            details={"sync_run": self.run_number, "error": request.last_error},
        )
        queue_export_failed_mail(self.session, request.id, request.last_error)  # tell the requester
