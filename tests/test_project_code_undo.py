"""Undoing on a project's Cost Code page: removing a code added by mistake, making a code that is
in the ERP inactive on the project, and what Send to ERP says when codes have no cost type."""
from __future__ import annotations

import html
import re

import pytest

from portal.extensions import db
from portal.models import CostCodeUpdateRequest, ProjectCostCode
from tests.helpers import audit_events, cost_type, first_project, project_code, standard, user_by_email


@pytest.fixture
def project(app):
    return first_project()


def page_url(project) -> str:
    return f"/projects/{project.id}/admin/work-breakdown-structure/segments/cost-code/"


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def add_codes_without_cost_type(project, count: int) -> None:
    db.session.add_all(
        ProjectCostCode(project_id=project.id, code=f"{9000 + index}.000", description=f"Extra {index}",
                        division="9000", origin="project")
        for index in range(count)
    )
    db.session.commit()


def test_send_to_erp_disabled_says_how_many_codes_have_no_cost_type(client, auth, project):
    add_codes_without_cost_type(project, 12)
    auth.login_as("pm")
    page = text_of(client.get(page_url(project)))
    assert re.search(r'<button type="submit" class="primary" disabled[^>]*>Send to ERP', page)
    assert "Nothing new to send: 12 codes have no cost type." in page


def test_one_code_without_cost_type_is_named_in_the_singular(client, auth, project):
    add_codes_without_cost_type(project, 1)
    auth.login_as("pm")
    assert "Nothing new to send: 1 code has no cost type." in text_of(client.get(page_url(project)))


def test_codes_without_cost_type_are_counted_beside_what_will_be_sent(client, auth, project):
    add_codes_without_cost_type(project, 2)
    code = db.session.query(ProjectCostCode).filter_by(project_id=project.id, code="9000.000").one()
    labor = next(cost_type for cost_type in project.company.cost_types if cost_type.code == "2")
    auth.login_as("pm")
    answer = client.htmx_post(
        page_url(project) + "cost-types", {"cost_code": code.id, "cost_type": labor.id, "assigned": "yes"}
    )
    assert "1 cost type assignment not sent yet; 1 code has no cost type and is not sent" in text_of(answer)


def test_the_cost_type_boxes_have_a_legend(client, auth, project):
    auth.login_as("pm")
    page = text_of(client.get(page_url(project)))
    assert "Grey and ticked: in the ERP job, or on its way there" in page
    assert "Ticked here and not sent yet" in page


def add_from_company(client, project, code: str) -> ProjectCostCode:
    picker = page_url(project) + "from-company/"
    form = {"code": str(standard(code).id), "every_code_cost_type": str(cost_type("2").id)}
    response = client.post_form(picker, form)
    assert response.status_code == 302
    return project_code(project, code)


def test_a_code_added_by_mistake_can_be_removed_before_it_is_sent(client, auth, project):
    auth.login_as("pm")
    added = add_from_company(client, project, "3010.000")
    page = text_of(client.get(page_url(project)))
    assert 'aria-label="Remove 3010.000 Formwork">Remove</button>' in page
    response = client.post_form(page_url(project) + "remove", {"cost_code": added.id}, follow_redirects=True)
    assert "Removed 3010.000 Formwork from RB-2401 Maple Street Medical Office." in text_of(response)
    db.session.expire_all()
    assert project_code(project, "3010.000") is None
    event = audit_events("project_cost_code.remove")[-1]
    assert event.details == {"code": "3010.000 Formwork", "cost_types": ["2 Labor"]}
    assert event.actor_id == user_by_email("pm@ridgeline.test").id


def test_a_code_in_the_erp_cannot_be_removed(client, auth, project):
    auth.login_as("pm")
    in_erp = project_code(project, "1010.000")
    page = text_of(client.get(page_url(project)))
    assert 'aria-label="Remove 1010.000' not in page
    response = client.post_form(page_url(project) + "remove", {"cost_code": in_erp.id}, follow_redirects=True)
    assert "1010.000 Project Management has been sent to the ERP and cannot be removed" in text_of(response)
    db.session.expire_all()
    assert project_code(project, "1010.000") is not None
    assert not audit_events("project_cost_code.remove")


def test_a_code_of_a_rejected_request_cannot_be_removed_and_says_why(client, auth, project):
    auth.login_as("pm")
    added = add_from_company(client, project, "3010.000")
    client.post_form(page_url(project) + "send-to-erp")
    request = db.session.query(CostCodeUpdateRequest).filter_by(project_id=project.id).one()
    request.status = "rejected"
    for assignment in added.assignments:
        assignment.erp_state = "new"
    db.session.commit()
    response = client.post_form(page_url(project) + "remove", {"cost_code": added.id}, follow_redirects=True)
    assert "was in a cost code update request, which keeps it in its history" in text_of(response)
    db.session.expire_all()
    assert project_code(project, "3010.000") is not None


def test_removing_needs_admin_on_the_project_and_a_csrf_token(client, auth, project):
    auth.login_as("pm")
    added = add_from_company(client, project, "3010.000")
    assert client.post(page_url(project) + "remove", data={"cost_code": added.id}).status_code == 400
    auth.logout()
    auth.login_as("viewer")
    assert client.post_form(page_url(project) + "remove", {"cost_code": added.id}).status_code == 403
    db.session.expire_all()
    assert project_code(project, "3010.000") is not None


def test_a_tampered_remove_form_names_the_value(client, auth, project):
    auth.login_as("pm")
    response = client.post_form(page_url(project) + "remove", {"cost_code": "1; drop"})
    assert response.status_code == 422
    assert '"1; drop" is not a cost code' in text_of(response)


def test_a_code_in_the_erp_can_be_made_inactive_on_the_project_and_active_again(client, auth, project):
    auth.login_as("pm")
    in_erp = project_code(project, "1010.000")
    url = page_url(project) + "active"
    answer = client.htmx_post(url, {"cost_code": in_erp.id, "active": "no"})
    assert answer.status_code == 200
    row = text_of(answer)
    assert f'id="cost-code-{in_erp.id}-active"' in row and ">Make active</button>" in row
    db.session.expire_all()
    assert project_code(project, "1010.000").active is False
    event = audit_events("project_cost_code.deactivate")[-1]
    assert event.details == {"before": "Active", "after": "Inactive"}
    # An inactive code gets no new cost type until it is active again.
    labor = cost_type("2")
    refused = client.htmx_post(page_url(project) + "cost-types",
                               {"cost_code": in_erp.id, "cost_type": labor.id, "assigned": "yes"})
    assert refused.status_code == 409
    assert "is inactive on RB-2401 Maple Street Medical Office: make it active first" in text_of(refused)
    client.htmx_post(url, {"cost_code": in_erp.id, "active": "yes"})
    db.session.expire_all()
    assert project_code(project, "1010.000").active is True
    assert audit_events("project_cost_code.activate")


def test_an_unsent_code_is_removed_not_made_inactive(client, auth, project):
    auth.login_as("pm")
    added = add_from_company(client, project, "3010.000")
    response = client.post_form(page_url(project) + "active", {"cost_code": added.id, "active": "no"},
                                follow_redirects=True)
    assert "has never been sent to the ERP: remove it instead" in text_of(response)
    db.session.expire_all()
    assert project_code(project, "3010.000").active is True
