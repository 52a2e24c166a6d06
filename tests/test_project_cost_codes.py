"""The project side of cost code updates: add company codes and cost types, Send to ERP."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    CostCodeUpdateRequest,
    CostTypeAssignment,
    Project,
    ProjectCostCode,
    User,
)
from portal.services import NotFound, ServiceError
from portal.services.project_cost_codes import (
    add_company_codes_to_project,
    add_cost_types_to_code,
    company_codes_query,
    group_by_division,
    remove_unsent_cost_type,
    send_updates_to_erp,
)
from tests.helpers import (
    cost_type,
    first_project,
    project_code,
    run_together,
    standard,
    states,
    user_by_email,
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def project(app):
    return first_project()  # RB-2401: codes 1010.000 … 2100.000, each with 1 Material exported


@pytest.fixture
def pm(app):
    return user_by_email("pm@ridgeline.test")


def test_adding_company_codes_adds_them_with_their_cost_types_not_sent_yet(project, pm):
    selections = {
        standard("3010.000").id: {cost_type("1").id, cost_type("2").id},
        standard("3020.000").id: {cost_type("4").id},
    }
    result = add_company_codes_to_project(db.session, project, pm, selections)

    assert result.added == ["3010.000 Formwork", "3020.000 Reinforcing Steel"]
    assert result.skipped == []
    added = project_code(project, "3010.000")
    assert added.origin == "company"
    assert added.description == "Formwork"
    assert added.division == "3000"
    assert added.standard_cost_code_id == standard("3010.000").id
    assert states(project, "3010.000") == {"1": "new", "2": "new"}
    assert states(project, "3020.000") == {"4": "new"}


def test_codes_the_project_already_has_are_skipped_and_named(project, pm):
    result = add_company_codes_to_project(
        db.session, project, pm,
        {standard("2010.000").id: {cost_type("2").id}, standard("3010.000").id: {cost_type("2").id}},
    )
    assert result.added == ["3010.000 Formwork"]
    assert result.skipped == ["2010.000 Demolition"]
    assert states(project, "2010.000") == {"1": "exported"}  # untouched


def test_archived_company_code_is_refused_naming_the_code_and_the_rest_goes_on(project, pm):
    archived = standard("16100.000")
    assert archived.archived
    result = add_company_codes_to_project(
        db.session, project, pm,
        {standard("3010.000").id: {cost_type("1").id}, archived.id: {cost_type("1").id}},
    )
    assert result.added == ["3010.000 Formwork"]
    assert result.refused == [
        "16100.000 Site Lighting is archived in the company list and cannot be added"
    ]
    assert project_code(project, "16100.000") is None


def test_selection_of_only_archived_codes_is_refused_naming_them(project, pm):
    before = count(ProjectCostCode)
    with pytest.raises(ServiceError, match="16100.000 Site Lighting is archived in the company list"):
        add_company_codes_to_project(db.session, project, pm, {standard("16100.000").id: {cost_type("1").id}})
    assert count(ProjectCostCode) == before


def test_inactive_company_code_is_refused_naming_the_code(project, pm):
    inactive = standard("3010.000")
    inactive.active = False
    db.session.commit()
    with pytest.raises(ServiceError, match="3010.000 Formwork is inactive in the company list"):
        add_company_codes_to_project(db.session, project, pm, {inactive.id: {cost_type("1").id}})


def test_another_companys_code_or_cost_type_is_refused(project, pm):
    before = count(ProjectCostCode)
    foreign_code = standard("03-100", "harbor-point")
    with pytest.raises(ServiceError, match=rf"Cost code #{foreign_code.id} is not in Ridgeline"):
        add_company_codes_to_project(db.session, project, pm, {foreign_code.id: {cost_type("1").id}})
    foreign_type = cost_type("LAB", "harbor-point")
    with pytest.raises(ServiceError, match=rf"Cost type #{foreign_type.id} is not a cost type of"):
        add_company_codes_to_project(
            db.session, project, pm, {standard("3010.000").id: {foreign_type.id}}
        )
    with pytest.raises(ServiceError, match="Cost code #999999 is not in"):
        add_company_codes_to_project(db.session, project, pm, {999999: {cost_type("1").id}})
    assert count(ProjectCostCode) == before


def test_code_selected_without_cost_type_is_refused_naming_it(project, pm):
    result = add_company_codes_to_project(
        db.session, project, pm,
        {standard("3010.000").id: {cost_type("1").id}, standard("3020.000").id: set()},
    )
    assert result.refused == ["Choose at least one cost type for 3020.000 Reinforcing Steel"]
    assert project_code(project, "3010.000") is not None
    assert project_code(project, "3020.000") is None
    with pytest.raises(ServiceError, match="Choose at least one cost type for 3020.000 Reinforcing"):
        add_company_codes_to_project(db.session, project, pm, {standard("3020.000").id: set()})


def test_empty_selection_is_refused(project, pm):
    with pytest.raises(ServiceError, match="Select at least one cost code"):
        add_company_codes_to_project(db.session, project, pm, {})


def test_adding_codes_writes_an_audit_event(project, pm):
    add_company_codes_to_project(db.session, project, pm, {standard("3010.000").id: {cost_type("1").id}})
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "project_cost_code.add_from_company")
    )
    assert event.actor_id == pm.id
    assert event.project_id == project.id
    assert event.details["added"] == ["3010.000 Formwork"]


def test_company_codes_for_the_picker_leave_out_the_projects_own_in_the_erps_order(project):
    codes = db.session.scalars(company_codes_query(project)).all()
    listed = [code.code for code in codes]
    assert "2010.000" not in listed and "3010.000" in listed
    divisions = group_by_division(codes)
    assert [division.key for division in divisions][:2] == ["3000", "4000"]
    assert divisions[-1].key == "16000"  # numerically, not "16000" < "3000"
    assert divisions[0].addable_count == 10
    assert "16100.000" in listed  # archived: listed (disabled) so the page can say why
    assert divisions[-1].addable_count == 9
    searched = db.session.scalars(company_codes_query(project, "formwork")).all()
    assert [code.code for code in searched] == ["3010.000"]


def test_sage300_codes_are_listed_section_by_section(app):
    project = first_project("harbor-point")
    listed = [code.code for code in db.session.scalars(company_codes_query(project, "03-"))]
    assert listed[-2:] == ["03-900", "03-950"]


def test_adding_a_cost_type_to_an_existing_code_waits_as_new(project, pm):
    code = project_code(project, "2010.000")
    added = add_cost_types_to_code(db.session, project, pm, code.id, {cost_type("2").id})
    assert [assignment.cost_type.code for assignment in added] == ["2"]
    assert states(project, "2010.000") == {"1": "exported", "2": "new"}
    # Ticking a cost type the code already has changes nothing.
    assert add_cost_types_to_code(db.session, project, pm, code.id, {cost_type("1").id}) == []


def test_a_cost_type_of_another_project_code_is_not_found(project, pm):
    other = db.session.scalar(
        select(ProjectCostCode).where(ProjectCostCode.project_id != project.id)
    )
    with pytest.raises(NotFound):
        add_cost_types_to_code(db.session, project, pm, other.id, {cost_type("2").id})


def test_unsent_cost_type_may_be_removed_but_a_sent_one_stays(project, pm):
    code = project_code(project, "2010.000")
    add_cost_types_to_code(db.session, project, pm, code.id, {cost_type("2").id})
    remove_unsent_cost_type(db.session, project, pm, code.id, cost_type("2").id)
    assert states(project, "2010.000") == {"1": "exported"}
    with pytest.raises(ServiceError, match="has been sent to the ERP and can no longer be removed"):
        remove_unsent_cost_type(db.session, project, pm, code.id, cost_type("1").id)
    assert states(project, "2010.000") == {"1": "exported"}


def test_send_to_erp_makes_new_code_and_new_cost_type_lines(project, pm):
    add_company_codes_to_project(
        db.session, project, pm, {standard("3010.000").id: {cost_type("1").id, cost_type("2").id}}
    )
    add_cost_types_to_code(
        db.session, project, pm, project_code(project, "2010.000").id, {cost_type("2").id}
    )
    request = send_updates_to_erp(db.session, project, pm)

    assert request.status == "requested"
    assert request.requested_by_id == pm.id
    lines = {(line.code, line.cost_type_code): line for line in request.lines}
    assert {key: line.change for key, line in lines.items()} == {
        ("2010.000", "2"): "new_cost_type",  # the ERP job has 2010.000 already (1 Material)
        ("3010.000", "1"): "new_code",
        ("3010.000", "2"): "new_code",
    }
    formwork = lines[("3010.000", "1")]
    assert formwork.description == "Formwork"
    assert formwork.division == "3000"
    assert formwork.project_cost_code_id == project_code(project, "3010.000").id
    assert formwork.assignment_id is not None
    assert states(project, "3010.000") == {"1": "requested", "2": "requested"}
    assert states(project, "2010.000") == {"1": "exported", "2": "requested"}


def test_sending_again_adds_to_the_open_request(project, pm):
    add_company_codes_to_project(db.session, project, pm, {standard("3010.000").id: {cost_type("1").id}})
    first = send_updates_to_erp(db.session, project, pm)
    add_company_codes_to_project(db.session, project, pm, {standard("3020.000").id: {cost_type("1").id}})
    second = send_updates_to_erp(db.session, project, pm)

    assert second.id == first.id
    assert sorted(line.code for line in second.lines) == ["3010.000", "3020.000"]
    open_requests = db.session.scalar(
        select(func.count()).select_from(CostCodeUpdateRequest).where(
            CostCodeUpdateRequest.project_id == project.id,
            CostCodeUpdateRequest.status == "requested",
        )
    )
    assert open_requests == 1


def test_sending_after_the_request_was_approved_opens_a_new_one(project, pm):
    add_company_codes_to_project(db.session, project, pm, {standard("3010.000").id: {cost_type("1").id}})
    first = send_updates_to_erp(db.session, project, pm)
    first.status = "approved"
    db.session.commit()
    add_company_codes_to_project(db.session, project, pm, {standard("3020.000").id: {cost_type("1").id}})
    second = send_updates_to_erp(db.session, project, pm)
    assert second.id != first.id
    assert [line.code for line in second.lines] == ["3020.000"]


def test_sending_with_nothing_new_is_refused(project, pm):
    before = count(CostCodeUpdateRequest)
    with pytest.raises(ServiceError, match="Nothing to send: every cost code and cost type of RB-2401"):
        send_updates_to_erp(db.session, project, pm)
    assert count(CostCodeUpdateRequest) == before


def test_send_to_erp_writes_an_audit_event_with_the_line_count(project, pm):
    add_company_codes_to_project(
        db.session, project, pm, {standard("3010.000").id: {cost_type("1").id, cost_type("3").id}}
    )
    request = send_updates_to_erp(db.session, project, pm)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cost_code_update.request"))
    assert event.object_id == str(request.id)
    assert event.details["lines"] == 2
    assert event.actor_id == pm.id


def test_sent_assignments_cannot_be_removed(project, pm):
    add_company_codes_to_project(db.session, project, pm, {standard("3010.000").id: {cost_type("1").id}})
    send_updates_to_erp(db.session, project, pm)
    code = project_code(project, "3010.000")
    with pytest.raises(ServiceError, match="1 Material on 3010.000 Formwork has been sent"):
        remove_unsent_cost_type(db.session, project, pm, code.id, cost_type("1").id)
    assert db.session.scalar(
        select(func.count()).select_from(CostTypeAssignment).where(
            CostTypeAssignment.project_cost_code_id == code.id
        )
    ) == 1


def test_sage300_project_sends_categories(app):
    project = first_project("harbor-point")
    pm = user_by_email("pm@harborpoint.test")
    structural_steel = standard("05-100", "harbor-point")
    labor = cost_type("LAB", "harbor-point")
    add_company_codes_to_project(db.session, project, pm, {structural_steel.id: {labor.id}})
    request = send_updates_to_erp(db.session, project, pm)
    assert [(line.code, line.cost_type_code, line.change) for line in request.lines] == [
        ("05-100", "LAB", "new_code")
    ]


def test_simultaneous_sends_make_one_open_request_with_each_line_once(app, project, pm):
    """Eight Send to ERP clicks at once, each in its own session as web workers would do."""
    add_company_codes_to_project(
        db.session, project, pm,
        {standard("3010.000").id: {cost_type("1").id}, standard("3020.000").id: {cost_type("2").id}},
    )
    project_id, pm_id = project.id, pm.id
    db.session.remove()
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def click() -> None:
        with app.app_context():
            session_project = db.session.get(Project, project_id)
            session_pm = db.session.get(User, pm_id)
            db.session.rollback()  # each click starts from a fresh transaction, as a request does
            start.wait()
            try:
                send_updates_to_erp(db.session, session_project, session_pm)
                outcomes.append("sent")
            except ServiceError as error:
                outcomes.append(str(error))
            finally:
                db.session.remove()

    run_together([click] * 8)

    assert len(outcomes) == 8 and outcomes.count("sent") == 1, outcomes
    # The others are told plainly: already sent, or someone else sent at the same moment.
    assert all(
        outcome == "sent" or outcome.startswith(("Nothing to send", "The project's cost codes were"))
        for outcome in outcomes
    ), outcomes
    requests = db.session.scalars(
        select(CostCodeUpdateRequest).where(CostCodeUpdateRequest.project_id == project_id)
    ).all()
    assert len(requests) == 1
    assert sorted((line.code, line.cost_type_code) for line in requests[0].lines) == [
        ("3010.000", "1"), ("3020.000", "2")
    ]
    assert db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "cost_code_update.request")
    ) == 1
