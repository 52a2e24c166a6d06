"""Approving cost code updates for export: the rules of the approver side, service by service."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    CostCodeUpdateRequest,
    CostType,
    CostTypeAssignment,
    ProjectCostCode,
    UpdateRequestLine,
)
from portal.services import NotFound, PermissionDenied, ServiceError
from portal.services.approvals import (
    AlreadyDecided,
    approve_requested_updates,
    reject_requested_updates,
)
from portal.services.commitments import export_commitment_request
from tests.helpers import (
    audit_count,
    commitment_of,
    company_by_slug,
    first_project,
    user_by_email,
    waiting_request,
)


def assignment_states(request: CostCodeUpdateRequest) -> set[str]:
    ids = [line.assignment_id for line in request.lines]
    return set(db.session.scalars(select(CostTypeAssignment.erp_state).where(CostTypeAssignment.id.in_(ids))))


def approve(email: str, request: CostCodeUpdateRequest, **kwargs):
    user = user_by_email(email)
    return approve_requested_updates(db.session, request.id, user, company_id=user.company_id, **kwargs)


def reject(email: str, request: CostCodeUpdateRequest, reason: str):
    user = user_by_email(email)
    return reject_requested_updates(db.session, request.id, user, reason, company_id=user.company_id)


# --- Rule 1: Update needs Standard or Admin on ERP Integrations and Can Push to Accounting ---


@pytest.mark.parametrize(
    ("role", "reason"),
    [
        ("accountant", "You need the Can Push to Accounting privilege."),
        ("viewer", "You need Standard or Admin on ERP Integrations."),
        ("pm", "You need Standard or Admin on ERP Integrations."),
    ],
)
def test_rule_1_update_needs_standard_and_can_push_to_accounting(app, role, reason):
    request = waiting_request()
    with pytest.raises(PermissionDenied) as refusal:
        approve(f"{role}@ridgeline.test", request)
    assert str(refusal.value) == reason
    with pytest.raises(PermissionDenied):
        reject(f"{role}@ridgeline.test", request, "Not this way")
    db.session.expire_all()
    assert request.status == "requested"
    assert assignment_states(request) == {"requested"}
    assert audit_count("cost_code_update.approve") == audit_count("cost_code_update.reject") == 0


@pytest.mark.parametrize("role", ["approver", "admin"])
def test_rule_1_standard_or_admin_with_can_push_to_accounting_may_update(app, role):
    request = waiting_request()
    result = approve(f"{role}@ridgeline.test", request)
    assert result.request.status == "approved"
    assert result.request.approved_by.email == f"{role}@ridgeline.test"


def test_rule_1_requester_may_not_approve_their_own_request(app):
    request = waiting_request()
    approver = user_by_email("approver@ridgeline.test")
    request.requested_by_id = approver.id
    db.session.commit()
    with pytest.raises(PermissionDenied, match="Requester may not approve their own request"):
        approve("approver@ridgeline.test", request)
    approver.company.requester_may_not_approve = False
    db.session.commit()
    assert approve("approver@ridgeline.test", request).request.status == "approved"


# --- Rule 3: assignments are a set that approvals add to ---


def test_rule_3_approving_a_new_cost_type_ties_both_assignments_to_the_code(app):
    """A code already exported with 1 Material gains 2 Labor through a request: it keeps both."""
    project = first_project()
    company = project.company
    material, labor = (
        db.session.scalar(select(CostType).where(CostType.company_id == company.id, CostType.code == code))
        for code in ("1", "2")
    )
    cost_code = next(c for c in project.cost_codes if c.assignments[0].cost_type_id == material.id)
    assert [(a.cost_type.code, a.erp_state) for a in cost_code.assignments] == [("1", "exported")]
    pm = user_by_email("pm@ridgeline.test")
    labor_assignment = CostTypeAssignment(cost_type=labor, erp_state="requested")
    cost_code.assignments.append(labor_assignment)
    request = CostCodeUpdateRequest(company_id=company.id, project_id=project.id, requested_by_id=pm.id)
    db.session.add(request)
    db.session.flush()
    db.session.add(
        UpdateRequestLine(
            request_id=request.id,
            project_cost_code_id=cost_code.id,
            assignment_id=labor_assignment.id,
            code=cost_code.code,
            description=cost_code.description,
            cost_type_code="2",
            change="new_cost_type",
        )
    )
    db.session.commit()

    approve("approver@ridgeline.test", request)

    db.session.expire_all()
    tied = {
        (a.cost_type.code, a.erp_state) for a in db.session.get(ProjectCostCode, cost_code.id).assignments
    }
    assert tied == {("1", "exported"), ("2", "approved")}


def test_rule_3_demo_request_with_an_added_cost_type_keeps_the_exported_one(app):
    request = waiting_request()
    line = next(line for line in request.lines if line.change == "new_cost_type")
    before = {
        (a.cost_type.code, a.erp_state)
        for a in db.session.get(ProjectCostCode, line.project_cost_code_id).assignments
    }
    total_before = db.session.scalar(select(func.count()).select_from(CostTypeAssignment))

    approve("approver@ridgeline.test", request)

    db.session.expire_all()
    after = {
        (a.cost_type.code, a.erp_state)
        for a in db.session.get(ProjectCostCode, line.project_cost_code_id).assignments
    }
    assert after == {(code, "exported") for code, state in before if state == "exported"} | {
        (line.cost_type_code, "approved")
    }
    assert db.session.scalar(select(func.count()).select_from(CostTypeAssignment)) == total_before


# --- Rule 6: approving twice has one effect; the second sees who approved and when ---


def test_rule_6_approving_twice_has_one_effect(app):
    request = waiting_request()
    lines = len(request.lines)
    first = approve("approver@ridgeline.test", request)
    approved_at = first.request.approved_at
    with pytest.raises(AlreadyDecided) as second:
        approve("admin@ridgeline.test", request)
    assert str(second.value) == (
        f"Already approved by Accounting Approver (Ridgeline) at {approved_at:%Y-%m-%d %H:%M} UTC."
    )
    db.session.expire_all()
    assert request.approved_by.email == "approver@ridgeline.test"
    assert request.approved_at == approved_at
    assert audit_count("cost_code_update.approve") == 1
    assert len(request.lines) == lines
    assert {line.export_state for line in request.lines} == {"pending"}


def test_approval_queues_the_lines_for_the_next_sync_and_says_when(app):
    request = waiting_request()
    result = approve("approver@ridgeline.test", request)
    assert result.message == (
        "Approved: the codes will be exported to the ERP at the next data sync (next sync: within a minute)."
    )
    db.session.expire_all()
    assert assignment_states(request) == {"approved"}
    assert {line.export_state for line in request.lines} == {"pending"}

    company = company_by_slug("ridgeline")
    company.next_sync_at = datetime(2026, 11, 22, 5, 0)
    db.session.commit()
    result = approve("approver@ridgeline.test", waiting_request())
    assert "(next sync: 2026-11-22 05:00 UTC)" in result.message


def test_approving_only_what_the_approver_was_shown(app):
    request = waiting_request()
    with pytest.raises(ServiceError, match="changed since you opened the page: it now has"):
        approve("approver@ridgeline.test", request, seen_lines=len(request.lines) - 1)
    db.session.expire_all()
    assert request.status == "requested"
    approve("approver@ridgeline.test", request, seen_lines=len(request.lines))
    assert request.status == "approved"


# --- Rejection ---


def test_rejection_returns_codes_to_editable_with_the_reason(app):
    request = waiting_request()
    reject("approver@ridgeline.test", request, "  2 Labor is not used on this job.  ")
    db.session.expire_all()
    assert request.status == "rejected"
    assert request.rejection_reason == "2 Labor is not used on this job."
    assert request.rejected_by.email == "approver@ridgeline.test"
    assert assignment_states(request) == {"new"}
    assert audit_count("cost_code_update.reject") == 1


@pytest.mark.parametrize(
    ("reason", "message"),
    [("   ", "Give a reason for the rejection"), ("x" * 501, r"too long \(501 characters\)")],
)
def test_rejection_needs_a_reason_of_sensible_length(app, reason, message):
    request = waiting_request()
    with pytest.raises(ServiceError, match=message):
        reject("approver@ridgeline.test", request, reason)
    db.session.expire_all()
    assert request.status == "requested"
    assert assignment_states(request) == {"requested"}
    assert audit_count("cost_code_update.reject") == 0


def test_a_request_no_longer_waiting_gets_a_clear_message(app):
    request = waiting_request()
    reject("approver@ridgeline.test", request, "Wrong division")
    with pytest.raises(AlreadyDecided, match="Already rejected by Accounting Approver .* Wrong division"):
        approve("admin@ridgeline.test", request)
    with pytest.raises(AlreadyDecided):
        reject("admin@ridgeline.test", request, "Again")
    db.session.expire_all()
    assert request.status == "rejected"
    assert audit_count("cost_code_update.approve") == 0
    assert audit_count("cost_code_update.reject") == 1


def test_every_request_approval_and_rejection_writes_an_audit_event(app):
    company = company_by_slug("ridgeline")
    first, second = db.session.scalars(
        select(CostCodeUpdateRequest)
        .where(CostCodeUpdateRequest.company_id == company.id, CostCodeUpdateRequest.status == "requested")
        .order_by(CostCodeUpdateRequest.id)
        .limit(2)
    ).all()
    approve("approver@ridgeline.test", first)
    reject("admin@ridgeline.test", second, "Ask again next week")
    approval = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cost_code_update.approve"))
    rejection = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cost_code_update.reject"))
    assert (approval.actor_name, approval.object_id, approval.project_id) == (
        "Accounting Approver (Ridgeline)",
        str(first.id),
        first.project_id,
    )
    assert rejection.details["reason"] == "Ask again next week"


# --- Rule 9: a foreign company's request ---


def test_foreign_company_request_is_not_found(app):
    foreign = waiting_request("harbor-point")
    with pytest.raises(NotFound):
        approve("approver@ridgeline.test", foreign)
    with pytest.raises(NotFound):
        reject("approver@ridgeline.test", foreign, "Not ours")
    db.session.expire_all()
    assert foreign.status == "requested"


# --- Rule 5: contracts and change orders wait for the cost codes ---


def test_rule_5_commitment_export_is_refused_while_the_cost_code_update_waits(app):
    request = waiting_request()
    commitment = commitment_of(request.project_id)
    approver = user_by_email("approver@ridgeline.test")
    with pytest.raises(ServiceError) as refusal:
        export_commitment_request(db.session, commitment.id, approver, company_id=approver.company_id)
    assert str(refusal.value) == (
        "Contract SC-001 of RB-2402 Cedar Ridge Elementary cannot be exported yet: update the "
        "project's cost codes first (its cost code update is waiting for approval)."
    )
    db.session.expire_all()
    assert commitment.status == "ready"
    assert audit_count("commitment.export_request") == 0


def test_commitment_export_is_allowed_once_the_update_is_approved(app):
    request = waiting_request()
    approve("approver@ridgeline.test", request)
    accountant = user_by_email("accountant@ridgeline.test")
    commitment = commitment_of(request.project_id, "CO-001")
    export_commitment_request(db.session, commitment.id, accountant, company_id=accountant.company_id)
    db.session.expire_all()
    assert commitment.status == "export_requested"
    assert commitment.export_requested_by_id == accountant.id
    assert audit_count("commitment.export_request") == 1
    with pytest.raises(ServiceError, match="already queued for export"):
        export_commitment_request(db.session, commitment.id, accountant, company_id=accountant.company_id)


def test_commitment_export_needs_standard_and_own_company(app):
    commitment = commitment_of(first_project().id)
    viewer = user_by_email("viewer@ridgeline.test")
    with pytest.raises(PermissionDenied, match="Standard or Admin on ERP Integrations"):
        export_commitment_request(db.session, commitment.id, viewer, company_id=viewer.company_id)
    foreign = user_by_email("admin@harborpoint.test")
    with pytest.raises(NotFound):
        export_commitment_request(db.session, commitment.id, foreign, company_id=foreign.company_id)
    db.session.expire_all()
    assert commitment.status == "ready"


# --- Demo data ---


@pytest.mark.parametrize("slug", ["ridgeline", "harbor-point"])
def test_demo_data_has_three_requests_ready_to_update(app, slug):
    company = company_by_slug(slug)
    requests = db.session.scalars(
        select(CostCodeUpdateRequest).where(
            CostCodeUpdateRequest.company_id == company.id, CostCodeUpdateRequest.status == "requested"
        )
    ).all()
    assert len(requests) >= 3
    for request in requests:
        assert request.requested_by.email.startswith("pm@")
        assert 3 <= len(request.lines) <= 8
        assert {line.change for line in request.lines} == {"new_code", "new_cost_type"}
        assert assignment_states(request) == {"requested"}


# --- The whole path with the project side: Send to ERP, then Update or Reject ---


def _send_labor_for_an_exported_material_code():
    from portal.services.project_cost_codes import add_cost_types_to_code, send_updates_to_erp

    project = first_project()
    pm = user_by_email("pm@ridgeline.test")
    labor = db.session.scalar(
        select(CostType).where(CostType.company_id == project.company_id, CostType.code == "2")
    )
    cost_code = next(c for c in project.cost_codes if c.assignments[0].cost_type.code == "1")
    add_cost_types_to_code(db.session, project, pm, cost_code.id, {labor.id})
    return cost_code, send_updates_to_erp(db.session, project, pm)


def test_rule_3_sent_from_the_project_and_approved_both_cost_types_stay_tied(app):
    cost_code, request = _send_labor_for_an_exported_material_code()
    assert [(line.code, line.cost_type_code, line.change) for line in request.lines] == [
        (cost_code.code, "2", "new_cost_type")
    ]
    approve("approver@ridgeline.test", request)
    db.session.expire_all()
    assert {(a.cost_type.code, a.erp_state) for a in cost_code.assignments} == {
        ("1", "exported"),
        ("2", "approved"),
    }
    assert audit_count("cost_code_update.request") == audit_count("cost_code_update.approve") == 1


def test_rejected_codes_can_be_sent_again_from_the_project(app):
    from portal.services.project_cost_codes import send_updates_to_erp, unsent_count

    cost_code, request = _send_labor_for_an_exported_material_code()
    reject("approver@ridgeline.test", request, "Labor belongs on 1020.000")
    db.session.expire_all()
    project = first_project()
    assert unsent_count(db.session, project) == 1
    again = send_updates_to_erp(db.session, project, user_by_email("pm@ridgeline.test"))
    assert again.id != request.id and again.status == "requested"
    assert audit_count("cost_code_update.request") == 2 and audit_count("cost_code_update.reject") == 1
