"""The project side's screens: Cost Code page actions, Cost Codes from Company, Send to ERP."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    CostCodeUpdateRequest,
    CostTypeAssignment,
    Level,
    ProjectCostCode,
    ProjectPermission,
    utcnow,
)
from tests.helpers import cost_type, first_project, project_code, standard, states, user_by_email


@pytest.fixture
def project(app):
    return first_project()


def urls(project) -> dict[str, str]:
    base = f"/projects/{project.id}/admin/work-breakdown-structure/segments/cost-code"
    return {
        "page": f"{base}/",
        "picker": f"{base}/from-company/",
        "send": f"{base}/send-to-erp",
        "assign": f"{base}/cost-types",
        "home": f"/projects/{project.id}/",
    }


def stored() -> tuple[int, int, int, int]:
    """Everything a refused form must leave as it was."""
    db.session.expire_all()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (ProjectCostCode, CostTypeAssignment, CostCodeUpdateRequest, AuditEvent)
    )


def text_of(response) -> str:
    """The page as a person reads it: entities decoded, white space folded."""
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def grant(email: str, project, level: Level) -> None:
    user = user_by_email(email)
    db.session.add(ProjectPermission(user_id=user.id, project_id=project.id, admin_level=level))
    db.session.commit()


def test_project_admin_sees_cost_codes_from_company_and_send_to_erp(client, auth, project):
    auth.login_as("pm")
    page = text_of(client.get(urls(project)["page"]))
    assert f'href="{urls(project)["picker"]}">Cost Codes from Company</a>' in page
    # Nothing new yet: Send to ERP is there, disabled, and says why.
    assert re.search(r'<button type="submit" class="primary" disabled[^>]*>Send to ERP', page)
    assert "Nothing new to send: add cost codes or cost types first." in page


def test_non_admin_sees_the_actions_disabled_and_may_not_use_them(client, auth, project):
    grant("viewer@ridgeline.test", project, Level.STANDARD)
    auth.login_as("viewer")
    page = text_of(client.get(urls(project)["page"]))
    assert "You need Admin on this project's Admin tool." in page
    assert re.search(r'<button type="button" disabled[^>]*>Cost Codes from Company', page)
    assert re.search(r'<button type="submit" class="primary" disabled[^>]*>Send to ERP', page)
    assert 'hx-post=' not in page  # the cost type boxes are read-only too
    before = stored()
    assert client.get(urls(project)["picker"]).status_code == 403
    form = {"code": str(standard("3010.000").id), "every_code_cost_type": str(cost_type("1").id)}
    assert client.post_form(urls(project)["picker"], form).status_code == 403
    assert client.post_form(urls(project)["send"]).status_code == 403
    code = project_code(project, "2010.000")
    assign = {"cost_code": code.id, "cost_type": cost_type("2").id, "assigned": "yes"}
    assert client.htmx_post(urls(project)["assign"], assign).status_code == 403
    assert stored() == before


def test_cost_codes_from_company_lists_what_the_project_lacks_by_division(client, auth, project):
    auth.login_as("pm")
    page = text_of(client.get(urls(project)["picker"]))
    assert "<h1>Cost Codes from Company</h1>" in page
    assert ">2010.000<" not in page  # the project has it
    assert re.search(r"<summary><span class=\"code\">3000</span> Concrete", page)
    assert 'aria-label="Select 3010.000 Formwork"' in page
    assert 'aria-label="3010.000 2 Labor"' in page
    assert "Select All" in page
    assert 'js/cost_codes_from_company.js' in page


def test_archived_company_code_is_shown_disabled_with_the_reason(client, auth, project):
    auth.login_as("pm")
    page = text_of(client.get(urls(project)["picker"], query_string={"q": "Site Lighting"}))
    archived = standard("16100.000")
    assert re.search(
        rf'<input type="checkbox" name="code" value="{archived.id}"[^>]*disabled', page
    )
    assert "archived in the company list" in page


def test_search_answers_htmx_with_the_list_only(client, auth, project):
    auth.login_as("pm")
    response = client.htmx_get(urls(project)["picker"], query_string={"q": "formwork"})
    body = text_of(response)
    assert response.status_code == 200
    assert "<html" not in body
    assert "3010.000" in body and "3020.000" not in body
    assert "<details class=\"division\" open>" in body
    nothing = text_of(client.htmx_get(urls(project)["picker"], query_string={"q": "zzz-none"}))
    assert "No company cost code matches “zzz-none”." in nothing


def test_add_adds_the_ticked_codes_and_confirms(client, auth, project):
    auth.login_as("pm")
    form = {
        "code": [str(standard("3010.000").id)],
        "every_code_cost_type": [str(cost_type("1").id)],
        # ticking a code's own cost type selects the code too
        f"cost_type_{standard('3020.000').id}": [str(cost_type("2").id)],
    }
    response = client.post_form(urls(project)["picker"], form)
    assert response.status_code == 302
    assert response.headers["Location"] == urls(project)["page"]
    page = text_of(client.get(response.headers["Location"]))
    assert "Added 2 cost codes: 3010.000 Formwork, 3020.000 Reinforcing Steel." in page
    assert states(project, "3010.000") == {"1": "new"}
    # the cost types for every selected code join a code's own
    assert states(project, "3020.000") == {"1": "new", "2": "new"}
    assert "not sent" in page
    assert "3 cost type assignments not sent yet" in page


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Select at least one cost code to add."),
        ({"code": "abc"}, "\"abc\" is not a cost code"),
        ({"code": "1e3"}, "\"1e3\" is not a cost code"),
        ({"code": "-4"}, "\"-4\" is not a cost code"),
        ({"code": "999999", "every_code_cost_type": "1"}, "Cost code #999999 is not in Ridgeline"),
        ({"code": "FOREIGN_CODE", "every_code_cost_type": "TYPE"}, "is not in Ridgeline Builders"),
        ({"code": "CODE", "every_code_cost_type": "FOREIGN_TYPE"}, "is not a cost type of Ridgeline"),
        ({"code": "CODE", "every_code_cost_type": "x" * 500}, "is not a cost type"),
        ({"cost_type_zz": "TYPE"}, "\"zz\" is not a cost code"),
        ({"code": "CODE"}, "Choose at least one cost type for 3010.000 Formwork."),
        ({"code": "ARCHIVED", "every_code_cost_type": "TYPE"},
         "16100.000 Site Lighting is archived in the company list and cannot be added."),
    ],
)
def test_tampered_add_form_gets_a_clear_message_and_changes_nothing(client, auth, project, form, message):
    values = {
        "CODE": str(standard("3010.000").id),
        "ARCHIVED": str(standard("16100.000").id),
        "FOREIGN_CODE": str(standard("03-100", "harbor-point").id),
        "TYPE": str(cost_type("1").id),
        "FOREIGN_TYPE": str(cost_type("LAB", "harbor-point").id),
    }
    form = {key: values.get(value, value) for key, value in form.items()}
    auth.login_as("pm")
    before = stored()
    response = client.post_form(urls(project)["picker"], form)
    assert response.status_code == 422
    page = text_of(response)
    assert message in page
    assert "<h1>Cost Codes from Company</h1>" in page  # the form again, to fix and add
    assert stored() == before


def test_refused_add_keeps_the_ticked_boxes(client, auth, project):
    auth.login_as("pm")
    formwork, rebar = standard("3010.000"), standard("3020.000")
    form = {"code": [str(formwork.id), str(rebar.id)]}  # no cost type for either
    response = client.post_form(urls(project)["picker"], form)
    assert response.status_code == 422
    page = text_of(response)
    assert "Choose at least one cost type for 3010.000 Formwork" in page
    assert "Choose at least one cost type for 3020.000 Reinforcing Steel." in page
    assert re.search(rf'name="code" value="{rebar.id}"[^>]*checked', page)
    assert re.search(rf'name="code" value="{formwork.id}"[^>]*checked', page)


def test_add_names_the_refused_code_and_adds_the_rest(client, auth, project):
    auth.login_as("pm")
    formwork, rebar = standard("3010.000"), standard("3020.000")
    form = {"code": [str(formwork.id), str(rebar.id)], f"cost_type_{formwork.id}": str(cost_type("2").id)}
    page = text_of(client.post_form(urls(project)["picker"], form, follow_redirects=True))
    assert "Added 1 cost code: 3010.000 Formwork." in page
    assert "Not added: Choose at least one cost type for 3020.000 Reinforcing Steel." in page


def test_send_to_erp_shows_waiting_for_approval_on_the_cost_code_and_project_pages(client, auth, project):
    auth.login_as("pm")
    client.post_form(urls(project)["picker"], {
        "code": [str(standard("3010.000").id), str(standard("3020.000").id)],
        "every_code_cost_type": str(cost_type("1").id),
    })
    response = client.post_form(urls(project)["send"])
    assert response.status_code == 302
    page = text_of(client.get(urls(project)["page"]))
    assert "Sent to ERP: 2 lines wait for approval in ERP Integrations." in page
    assert "Waiting for approval" in page
    assert "2 lines, requested by Project Manager (Ridgeline) at" in page
    assert "waiting for approval</span>" in page  # the sent boxes are tagged
    home = text_of(client.get(urls(project)["home"]))
    assert "Waiting for approval" in home and "2 lines" in home


def test_send_to_erp_with_nothing_new_says_so(client, auth, project):
    auth.login_as("pm")
    before = stored()
    response = client.post_form(urls(project)["send"], follow_redirects=True)
    assert "Nothing to send: every cost code and cost type of RB-2401" in text_of(response)
    assert stored() == before


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("approved", "Approved: waits for the next sync"),
        ("exported", "Exported to the ERP job at"),
        ("rejected", "Rejected by Accounting Approver (Ridgeline) at"),
    ],
)
def test_project_page_shows_the_request_state(client, auth, project, status, shown):
    approver = user_by_email("approver@ridgeline.test")
    db.session.add(CostCodeUpdateRequest(
        company_id=project.company_id, project_id=project.id, status=status,
        requested_by_id=user_by_email("pm@ridgeline.test").id, approved_by_id=approver.id,
        approved_at=utcnow(), rejected_by_id=approver.id, rejected_at=utcnow(),
        rejection_reason="Use 2010.000 for demolition", exported_at=utcnow(),
    ))
    db.session.commit()
    auth.login_as("pm")
    for url in (urls(project)["home"], urls(project)["page"]):
        page = text_of(client.get(url))
        assert shown in page
        if status == "rejected":
            assert "“Use 2010.000 for demolition”. The codes can be changed and sent again." in page


def test_ticking_a_cost_type_box_adds_it_and_wakes_send_to_erp(client, auth, project):
    auth.login_as("pm")
    code = project_code(project, "2010.000")
    labor = cost_type("2")
    response = client.htmx_post(
        urls(project)["assign"], {"cost_code": code.id, "cost_type": labor.id, "assigned": "yes"}
    )
    assert response.status_code == 200
    body = text_of(response)
    assert body.strip().startswith(f'<tr id="cost-code-{code.id}">')
    assert "not sent" in body
    assert 'id="update-request-actions" class="actions" hx-swap-oob="true"' in body
    assert not re.search(r'class="primary" disabled[^>]*>Send to ERP', body)
    assert states(project, "2010.000") == {"1": "exported", "2": "new"}

    # Unticking it again before it is sent takes it away.
    response = client.htmx_post(urls(project)["assign"], {"cost_code": code.id, "cost_type": labor.id})
    assert response.status_code == 200
    assert states(project, "2010.000") == {"1": "exported"}


def test_unticking_a_sent_cost_type_is_refused(client, auth, project):
    auth.login_as("pm")
    code = project_code(project, "2010.000")
    before = stored()
    untick = {"cost_code": code.id, "cost_type": cost_type("1").id}
    response = client.htmx_post(urls(project)["assign"], untick)
    assert response.status_code == 409
    assert "1 Material on 2010.000 Demolition has been sent to the ERP" in text_of(response)
    assert 'class="flash flash-error"' in text_of(response)
    assert stored() == before


@pytest.mark.parametrize(
    "form",
    [
        {"cost_code": "abc", "cost_type": "1", "assigned": "yes"},
        {"cost_code": "OTHER_PROJECT", "cost_type": "TYPE", "assigned": "yes"},
        {"cost_code": "CODE", "cost_type": "FOREIGN_TYPE", "assigned": "yes"},
        {"cost_code": "CODE", "cost_type": "99999999", "assigned": "yes"},
        {"cost_code": "CODE"},
    ],
)
def test_tampered_cost_type_box_gets_a_clear_message_and_changes_nothing(client, auth, project, form):
    values = {
        "CODE": str(project_code(project, "2010.000").id),
        "OTHER_PROJECT": str(db.session.scalar(
            select(ProjectCostCode.id).where(ProjectCostCode.project_id != project.id)
        )),
        "TYPE": str(cost_type("2").id),
        "FOREIGN_TYPE": str(cost_type("LAB", "harbor-point").id),
    }
    form = {key: values.get(value, value) for key, value in form.items()}
    auth.login_as("pm")
    before = stored()
    response = client.htmx_post(urls(project)["assign"], form)
    assert response.status_code in (404, 409, 422)
    assert 'class="flash flash-error"' in text_of(response)
    assert stored() == before


def test_company_codes_are_listed_a_page_at_a_time(client, auth, project):
    auth.login_as("pm")
    first = text_of(client.get(urls(project)["picker"]))
    assert "Page 1 of 3 (130 in all)" in first  # 150 company codes, 20 on the project
    assert "16100.000" not in first
    last = text_of(client.htmx_get(urls(project)["picker"], query_string={"page": "3"}))
    assert "16100.000" in last and "Page 3 of 3" in last
    assert '<input type="hidden" name="list_page" value="3">' in last


def test_refused_add_shows_the_list_that_was_searched(client, auth, project):
    auth.login_as("pm")
    rebar = standard("3020.000")
    page = text_of(client.post_form(
        urls(project)["picker"], {"code": str(rebar.id), "list_q": "Concrete", "list_page": "1"}
    ))
    assert "Choose at least one cost type for 3020.000 Reinforcing Steel." in page
    assert 'name="list_q" value="Concrete"' in page  # the search box shows the search
    assert ">4010.000<" not in page  # only the searched division is listed
    assert re.search(rf'name="code" value="{rebar.id}"[^>]*checked', page)
