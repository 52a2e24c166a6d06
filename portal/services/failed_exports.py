"""Failed to Export: why a project's export failed, and what fixes it.

A row says why in as few sentences as there are causes: a missing ERP job fails every line of
the request with the same sentence, shown once with the number of lines and the first few.
**Retry** exports again now: it starts a sync run (the sync retries every failed export, and
it is idempotent, so nothing is exported twice). For a missing or renamed ERP job the row also
offers to link the project to another ERP job (erp_job_links) or to create the job: the project
is accepted again for job creation and a sync run starts, which creates the job before it
exports the cost codes (DESIGN, Data sync: the steps run in that order).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.erp.base import NO_SUCH_JOB
from portal.models import (
    CompanyTool,
    CostCodeUpdateRequest,
    Level,
    LineExportState,
    Project,
    RequestStatus,
    SyncRun,
    UpdateRequestLine,
    User,
)
from portal.services import PermissionDenied, ServiceError, transaction
from portal.services.approvals import approval_refusal
from portal.services.audit import record_event
from portal.services.erp_job_links import company_project
from portal.services.sync import active_run, queue_sync

# Lines named in a cause's sentence; the count says how many there are in all.
EXAMPLE_LINES = 3

NEEDS_RETRY_RIGHT = (
    "You need Admin on ERP Integrations, or Standard with the Can Push to Accounting privilege"
)


@dataclass(frozen=True)
class FailureCause:
    """One reason a request's lines failed, with how many lines it stopped."""

    message: str
    line_count: int
    examples: tuple[str, ...]  # "code/cost type" of the first lines, in code order
    missing_job: bool  # the ERP has no job of the project's number

    @property
    def text(self) -> str:
        if not self.line_count:
            return self.message
        lines = ", ".join(self.examples)
        if self.line_count > len(self.examples):
            lines += ", …"
        noun = "line" if self.line_count == 1 else "lines"
        return f"{self.message} ({self.line_count} {noun}: {lines})"


def failure_causes(session: Session, requests: list[CostCodeUpdateRequest]) -> dict[int, list[FailureCause]]:
    """Each failed request's causes, most lines first, in one query for the page's requests.

    A request whose ERP gave no answer at all (its lines still pending) has its stored error as
    its one cause.
    """
    request_ids = [request.id for request in requests]
    causes: dict[int, list[FailureCause]] = {request_id: [] for request_id in request_ids}
    if not request_ids:
        return causes
    group = (UpdateRequestLine.request_id, UpdateRequestLine.export_message)
    ranked = (
        select(
            UpdateRequestLine.request_id,
            UpdateRequestLine.export_message,
            UpdateRequestLine.export_outcome,
            UpdateRequestLine.code,
            UpdateRequestLine.cost_type_code,
            func.count().over(partition_by=group).label("line_count"),
            func.row_number()
            .over(partition_by=group, order_by=(UpdateRequestLine.code, UpdateRequestLine.cost_type_code))
            .label("place"),
        )
        .where(
            UpdateRequestLine.request_id.in_(request_ids),
            UpdateRequestLine.export_state == LineExportState.FAILED,
        )
        .subquery()
    )
    grouped: dict[tuple[int, str], dict] = {}
    for request_id, message, outcome, code, cost_type, line_count, _place in session.execute(
        select(ranked).where(ranked.c.place <= EXAMPLE_LINES).order_by(ranked.c.request_id, ranked.c.place)
    ):
        entry = grouped.setdefault(
            (request_id, message or ""),
            {"count": line_count, "examples": [], "missing_job": False},
        )
        entry["examples"].append(f"{code}/{cost_type}")
        entry["missing_job"] = entry["missing_job"] or outcome == NO_SUCH_JOB
    for (request_id, message), entry in grouped.items():
        causes[request_id].append(FailureCause(
            message or "The ERP gave no reason.", entry["count"], tuple(entry["examples"]),
            entry["missing_job"],
        ))
    for request in requests:
        causes[request.id].sort(key=lambda cause: -cause.line_count)
        if not causes[request.id]:
            message = request.last_error or "The export failed; it is retried at the next sync."
            causes[request.id].append(FailureCause(message, 0, (), False))
    return causes


def retry_refusal(user: User) -> str | None:
    """Who may Retry: whoever may start a sync (Sync Now: Admin on ERP Integrations) or approve
    the exports that failed (rule 1). Retry starts the same sync run Sync Now does."""
    if user.tool_level(CompanyTool.ERP_INTEGRATIONS) >= Level.ADMIN or approval_refusal(user) is None:
        return None
    return NEEDS_RETRY_RIGHT


def _failed_request(session: Session, project: Project) -> CostCodeUpdateRequest | None:
    return session.scalar(
        select(CostCodeUpdateRequest)
        .where(
            CostCodeUpdateRequest.project_id == project.id,
            CostCodeUpdateRequest.status == RequestStatus.FAILED,
        )
        .order_by(CostCodeUpdateRequest.id.desc())
        .limit(1)
    )


def _has_link_error(project: Project) -> bool:
    return bool(project.erp_link_message) and project.erp_link_state != "rejected"


def _check_retry(
    session: Session, project: Project, actor: User, action: str
) -> CostCodeUpdateRequest | None:
    refusal = retry_refusal(actor)
    if refusal:
        raise PermissionDenied(f"{refusal} to {action} {project.label}.")
    failed = _failed_request(session, project)
    if failed is None and not _has_link_error(project):
        raise ServiceError(f"Nothing of {project.label} failed to export: there is nothing to retry.")
    running = active_run(session, project.company_id)
    if running is not None:
        raise ServiceError(
            f"A sync is already running (run {running.run_number}): it retries the export of "
            f"{project.label}. Look again when it has finished (Sync tab)."
        )
    return failed


def retry_failed_export(session: Session, company_id: int, project_id: int, *, actor: User) -> SyncRun:
    """Retry: a sync run starts now and exports the project's failed work again."""
    project = company_project(session, company_id, project_id)
    failed = _check_retry(session, project, actor, "retry the export of")
    with transaction(session):
        record_event(
            session, company_id=company_id, actor=actor, action="export.retry",
            object_type="project", object_id=project.id, object_label=project.label,
            project_id=project.id,
            details={"erp_job": project.erp_job_number, "error": failed.last_error if failed else
                     project.erp_link_message},
        )
    return queue_sync(session, company_id, actor=actor)


def create_missing_erp_job(session: Session, company_id: int, project_id: int, *, actor: User) -> SyncRun:
    """Create ERP job: the project's job is missing in the ERP. The project is accepted again for
    job creation under its job number, and a sync run starts: it creates the job, links it, and
    exports the failed cost codes to it."""
    project = company_project(session, company_id, project_id)
    failed = _check_retry(session, project, actor, "create the ERP job of")
    if project.erp_link_state != "linked" or failed is None:
        raise ServiceError(
            f"{project.label} has no ERP job to create again: use Retry, or Link to ERP job."
        )
    number = project.erp_job_number or project.number
    with transaction(session):
        project.erp_link_state = "accepted"
        project.erp_job_number = number
        project.erp_link_message = None
        record_event(
            session, company_id=company_id, actor=actor, action="project.create_erp_job",
            object_type="project", object_id=project.id, object_label=project.label,
            project_id=project.id, details={"erp_job": number, "error": failed.last_error},
        )
    return queue_sync(session, company_id, actor=actor)
