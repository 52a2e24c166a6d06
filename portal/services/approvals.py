"""Approving or rejecting a project's cost code update request (ERP Integrations → Jobs).

An approved request is the export outbox: its lines stay `pending` until the data sync exports
them, so approving never talks to the ERP itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.erp.formats import in_code_order
from portal.models import (
    AssignmentErpState,
    Company,
    CompanyTool,
    CostCodeUpdateRequest,
    CostType,
    CostTypeAssignment,
    Level,
    ProjectCostCode,
    RequestStatus,
    UpdateRequestLine,
    User,
    utcnow,
)
from portal.services import NotFound, PermissionDenied, ServiceError, lock_company_row, transaction
from portal.services.audit import record_event
from portal.services.notifications import queue_decision_mail
from portal.times import local_time, time_zone

REASON_MAX_LENGTH = 500

NEEDS_LEVEL = "You need Standard or Admin on ERP Integrations"
NEEDS_PRIVILEGE = "You need the Can Push to Accounting privilege"
REQUESTER_MAY_NOT_APPROVE = (
    "Requester may not approve their own request: the company setting is on, so someone else "
    "must approve or reject it"
)


class AlreadyDecided(ServiceError):
    """The request is no longer waiting: someone approved or rejected it first."""


@dataclass(frozen=True)
class ApprovalResult:
    request: CostCodeUpdateRequest
    message: str


def when(value, company: Company) -> str:  # noqa: ANN001
    """A time in a message, in the company's time zone like every screen's."""
    return local_time(value, time_zone(company.time_zone))


def approval_refusal(user: User, request: CostCodeUpdateRequest | None = None) -> str | None:
    """Why `user` may not approve or reject (`request`, when given), or None if they may.

    The page uses it to disable the buttons with the reason; the service uses it to refuse.
    """
    if user.tool_level(CompanyTool.ERP_INTEGRATIONS) < Level.STANDARD:
        return NEEDS_LEVEL
    if not user.can_push_to_accounting:
        return NEEDS_PRIVILEGE
    if request is not None:
        return own_request_refusal(user, request)
    return None


def own_request_refusal(user: User, request: CostCodeUpdateRequest) -> str | None:
    """The part of approval_refusal() that depends on the request, for a user who may approve.

    A list asks it once per row after asking approval_refusal(user) once. Only the request's
    `requested_by_id` is read, so the Jobs tab passes its row for it.
    """
    if request.requested_by_id == user.id and user.company.requester_may_not_approve:
        return REQUESTER_MAY_NOT_APPROVE
    return None


def decided_message(request: CostCodeUpdateRequest) -> str:
    if request.status == RequestStatus.REJECTED:
        name = request.rejected_by.name if request.rejected_by else "someone"
        at = when(request.rejected_at, request.project.company)
        return f"Already rejected by {name} at {at}: {request.rejection_reason}"
    if request.approved_by is not None:
        at = when(request.approved_at, request.project.company)
        return f"Already approved by {request.approved_by.name} at {at}."
    return f"This request is no longer waiting for approval ({request.status_label})."


def get_request(session: Session, request_id: int, *, company_id: int) -> CostCodeUpdateRequest:
    """A request of the company (its lines load when asked for); another company's id is NotFound."""
    request = session.get(
        CostCodeUpdateRequest,
        request_id,
        options=[joinedload(CostCodeUpdateRequest.project), joinedload(CostCodeUpdateRequest.requested_by)],
    )
    if request is None or request.company_id != company_id:
        raise NotFound("That cost code update request does not exist, or it is not part of your company.")
    return request


def _lock_request(session: Session, request_id: int, company_id: int) -> CostCodeUpdateRequest:
    # Concurrent approvals of one request queue on its row.
    return lock_company_row(
        session, CostCodeUpdateRequest, request_id, company_id=company_id,
        not_found="That cost code update request does not exist, or it is not part of your company.",
    )


def _claim(session: Session, request: CostCodeUpdateRequest, **values) -> None:
    """Move the request out of "requested"; exactly one of any number of concurrent callers wins."""
    result = session.execute(
        update(CostCodeUpdateRequest)
        .where(
            CostCodeUpdateRequest.id == request.id,
            CostCodeUpdateRequest.status == RequestStatus.REQUESTED,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(request)
        raise AlreadyDecided(decided_message(request))
    session.refresh(request)


def _check(approver: User, request: CostCodeUpdateRequest) -> None:
    refusal = approval_refusal(approver, request)
    if refusal:
        raise PermissionDenied(refusal + ".")
    if request.status != RequestStatus.REQUESTED:
        raise AlreadyDecided(decided_message(request))


def _check_seen_lines(request: CostCodeUpdateRequest, seen_lines: int | None) -> None:
    # Lines may be added to an open request while the approver looks at it: approve only what
    # was shown.
    if seen_lines is not None and seen_lines != len(request.lines):
        raise ServiceError(
            f"The request of {request.project.label} changed since you opened the page: it now has "
            f"{len(request.lines)} lines. Review them again with View Requested Updates."
        )


def approve_requested_updates(
    session: Session,
    request_id: int,
    approver: User,
    *,
    company_id: int,
    seen_lines: int | None = None,
) -> ApprovalResult:
    """Approve the request: its codes wait for the next data sync to be exported."""
    with transaction(session):
        request = _lock_request(session, request_id, company_id)
        _check(approver, request)
        _check_seen_lines(request, seen_lines)
        _claim(
            session, request, status=RequestStatus.APPROVED, approved_by_id=approver.id,
            approved_at=utcnow(),
        )
        _tie_assignments(session, request)
        record_event(
            session, company_id=company_id, actor=approver, action="cost_code_update.approve",
            object_type="cost_code_update_request", object_id=request.id,
            object_label=request.project.label, project_id=request.project_id,
            details={"lines": len(request.lines)},
        )
        queue_decision_mail(session, request, approver)  # issue 17: tell the requester
        next_sync = next_sync_words(session.get(Company, company_id))
    return ApprovalResult(
        request=request,
        message="Approved: the codes will be exported to the ERP at the next data sync "
        f"(next sync: {next_sync}).",
    )


def next_sync_words(company: Company) -> str:
    """When the company's next data sync (which exports approved requests) runs, in words.

    A company on a schedule whose next time is not set yet is due at once: the scheduler's next
    tick, every minute, starts it.
    """
    if company.sync_schedule == "never":
        return "not scheduled, only Sync Now exports them"
    return when(company.next_sync_at, company) or "within a minute"


def _tie_assignments(session: Session, request: CostCodeUpdateRequest) -> None:
    """Every line's cost type joins its code's set of assignments; nothing already there goes."""
    cost_code_ids = {line.project_cost_code_id for line in request.lines}
    cost_codes = session.scalars(
        select(ProjectCostCode)
        .where(ProjectCostCode.id.in_(cost_code_ids))
        .options(selectinload(ProjectCostCode.assignments).selectinload(CostTypeAssignment.cost_type))
    ).all()
    by_id = {cost_code.id: cost_code for cost_code in cost_codes}
    cost_types = {
        cost_type.code: cost_type
        for cost_type in session.scalars(select(CostType).where(CostType.company_id == request.company_id))
    }
    for line in request.lines:
        cost_code = by_id.get(line.project_cost_code_id)
        if cost_code is None:
            continue
        assignment = next(
            (a for a in cost_code.assignments if a.cost_type.code == line.cost_type_code), None
        )
        if assignment is None and line.cost_type_code in cost_types:
            assignment = CostTypeAssignment(cost_type=cost_types[line.cost_type_code])
            cost_code.assignments.append(assignment)
            session.flush()
            line.assignment_id = assignment.id
        not_yet_approved = {AssignmentErpState.NEW, AssignmentErpState.REQUESTED}
        if assignment is not None and assignment.erp_state in not_yet_approved:
            assignment.erp_state = AssignmentErpState.APPROVED


def reject_requested_updates(
    session: Session,
    request_id: int,
    approver: User,
    reason: str,
    *,
    company_id: int,
) -> CostCodeUpdateRequest:
    """Send the request back: its codes become editable on the project, with the reason shown."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Give a reason for the rejection: the project team reads it to fix the request.")
    if len(reason) > REASON_MAX_LENGTH:
        raise ServiceError(
            f"The reason is too long ({len(reason)} characters); keep it to {REASON_MAX_LENGTH}."
        )
    with transaction(session):
        request = _lock_request(session, request_id, company_id)
        _check(approver, request)
        _claim(
            session, request, status=RequestStatus.REJECTED, rejected_by_id=approver.id, rejected_at=utcnow(),
            rejection_reason=reason,
        )
        assignment_ids = [line.assignment_id for line in request.lines if line.assignment_id]
        if assignment_ids:
            session.execute(
                update(CostTypeAssignment)
                .where(
                    CostTypeAssignment.id.in_(assignment_ids),
                    CostTypeAssignment.erp_state == AssignmentErpState.REQUESTED,
                )
                .values(erp_state=AssignmentErpState.NEW)
                .execution_options(synchronize_session=False)
            )
        record_event(
            session, company_id=company_id, actor=approver, action="cost_code_update.reject",
            object_type="cost_code_update_request", object_id=request.id,
            object_label=request.project.label, project_id=request.project_id,
            details={"lines": len(request.lines), "reason": reason},
        )
        queue_decision_mail(session, request, approver)  # issue 17: tell the requester
    return request


class RequestedCode(NamedTuple):
    """One code of a request as the Cost Codes for Update window shows it: one row per code."""

    code: str
    description: str
    requested: frozenset[str]  # cost type codes this request asks for
    change: str  # new_code | new_cost_type
    exported: frozenset[str]  # cost type codes the code already has in the ERP


def requested_update_codes(session: Session, request_id: int) -> tuple[list[RequestedCode], int]:
    """The request's codes, each with its requested cost types and those it already has in the
    ERP, in the ERP's code order; and the number of lines (code + cost type) they hold.

    Plain rows through the session's connection, not ORM objects: a request may hold thousands
    of lines and the window must open about as fast as a bare table of them.
    """
    connection = session.connection()
    exported: dict[int, set[str]] = {}
    for code_id, cost_type_code in connection.execute(
        select(CostTypeAssignment.project_cost_code_id, CostType.code)
        .join(CostType, CostType.id == CostTypeAssignment.cost_type_id)
        .where(
            CostTypeAssignment.erp_state == AssignmentErpState.EXPORTED,
            CostTypeAssignment.project_cost_code_id.in_(
                select(UpdateRequestLine.project_cost_code_id).where(
                    UpdateRequestLine.request_id == request_id
                )
            ),
        )
    ):
        exported.setdefault(code_id, set()).add(cost_type_code)
    none: frozenset[str] = frozenset()
    codes: list[RequestedCode] = []
    line_count = 0
    # The lines come in code order, a code's cost types together: one row per run of a code.
    for (code, code_id), lines in groupby(
        connection.execute(
            select(
                UpdateRequestLine.code, UpdateRequestLine.project_cost_code_id,
                UpdateRequestLine.description, UpdateRequestLine.cost_type_code, UpdateRequestLine.change,
            )
            .where(UpdateRequestLine.request_id == request_id)
            .order_by(*in_code_order(UpdateRequestLine.code), UpdateRequestLine.cost_type_code)
        ),
        key=lambda line: (line[0], line[1]),
    ):
        lines = list(lines)
        line_count += len(lines)
        # A code new to the job is new whichever of its lines says so.
        change = "new_code" if any(line[4] == "new_code" for line in lines) else lines[0][4]
        codes.append(RequestedCode(
            code, lines[0][2], frozenset(line[3] for line in lines), change,
            frozenset(exported.get(code_id, none)),
        ))
    return codes, line_count


@dataclass(frozen=True)
class SeveralResult:
    """One project's answer when several requests are approved with one click."""

    request_id: int
    project_label: str
    approved: bool
    message: str


def approve_several(
    session: Session,
    choices: list[tuple[int, int | None]],
    approver: User,
    *,
    company_id: int,
) -> list[SeveralResult]:
    """Approve each chosen (request id, lines seen) on its own: its own transaction, checks
    (rule 1, the requester rule, rule 6, unchanged lines) and audit event. One refusal stops
    only its own request."""
    results = []
    for request_id, seen_lines in choices:
        try:
            result = approve_requested_updates(
                session, request_id, approver, company_id=company_id, seen_lines=seen_lines
            )
        except ServiceError as refusal:
            request = session.get(CostCodeUpdateRequest, request_id)
            known = request is not None and request.company_id == company_id
            label = request.project.label if known else f"Request {request_id}"
            results.append(SeveralResult(request_id, label, False, str(refusal)))
        else:
            results.append(
                SeveralResult(request_id, result.request.project.label, True, result.message)
            )
    return results
