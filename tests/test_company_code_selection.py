"""Cost Codes from Company keeps its selection across pages and searches and says what Add adds."""
from __future__ import annotations

import html
import re

import pytest
from werkzeug.datastructures import MultiDict

from tests.helpers import cost_type, first_project, project_code, standard


@pytest.fixture
def project(app):
    return first_project()


def picker_url(project) -> str:
    return f"/projects/{project.id}/admin/work-breakdown-structure/segments/cost-code/from-company/"


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def hidden_fields(answer: str) -> MultiDict:
    """The hidden fields of an answer: what the browser's form sends next."""
    return MultiDict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', answer))


def test_the_selection_is_kept_when_paging(client, auth, project):
    auth.login_as("pm")
    formwork, rebar = standard("3010.000"), standard("3020.000")
    labor = cost_type("2")
    form = MultiDict([("code", str(formwork.id)), ("code", str(rebar.id)),
                      (f"cost_type_{formwork.id}", str(labor.id)), ("list_page", "1"), ("go_to_page", "2")])
    answer = text_of(client.htmx_post(picker_url(project) + "browse", form))
    assert "Page 2 of 3" in answer
    kept = hidden_fields(answer)
    assert sorted(kept.getlist("code")) == sorted([str(formwork.id), str(rebar.id)])
    assert kept.getlist(f"cost_type_{formwork.id}") == [str(labor.id)]
    assert "<strong>2 codes selected</strong> (2 not listed here)." in answer


def test_add_after_paging_adds_the_codes_of_every_page(client, auth, project):
    auth.login_as("pm")
    formwork, lighting = standard("3010.000"), standard("16020.000")
    material = cost_type("1")
    first = text_of(client.htmx_post(picker_url(project) + "browse", MultiDict([
        ("code", str(formwork.id)), ("every_code_cost_type", str(material.id)), ("go_to_page", "3"),
    ])))
    form = hidden_fields(first)
    form.add("code", str(lighting.id))  # ticked on page 3
    form.add("every_code_cost_type", str(material.id))
    form.add("csrf_token", client.csrf_token())
    response = client.post(picker_url(project), data=form, follow_redirects=True)
    assert "Added 2 cost codes: 3010.000 Formwork, 16020.000 Lighting." in text_of(response)
    assert project_code(project, "3010.000") is not None


def test_the_summary_says_what_add_will_add_and_what_it_will_not(client, auth, project):
    auth.login_as("pm")
    formwork, rebar, site_lighting = standard("3010.000"), standard("3020.000"), standard("16100.000")
    answer = text_of(client.htmx_post(picker_url(project) + "browse", MultiDict([
        ("code", str(formwork.id)), (f"cost_type_{formwork.id}", str(cost_type("2").id)),
        (f"cost_type_{formwork.id}", str(cost_type("1").id)),
        ("code", str(rebar.id)), ("code", str(site_lighting.id)),
    ])))
    assert '<div id="selection-summary" hx-swap-oob="innerHTML">' in answer
    assert "<strong>3 codes selected</strong>" in answer
    assert "Add will add 1 code:" in answer
    assert "<li>3010.000 Formwork (1 Material, 2 Labor)</li>" in answer
    assert "Not added: 3020.000 Reinforcing Steel: choose at least one cost type; " in answer
    assert "16100.000 Site Lighting is archived in the company list" in answer


def test_clear_selection_empties_it(client, auth, project):
    auth.login_as("pm")
    formwork = standard("3010.000")
    answer = text_of(client.htmx_post(picker_url(project) + "browse", MultiDict([
        ("code", str(formwork.id)), ("clear", "yes"), ("list_page", "1"),
    ])))
    assert "No code selected yet." in answer
    assert not re.search(rf'name="code" value="{formwork.id}"[^>]*checked', answer)


def test_paging_without_javascript_keeps_the_selection(client, auth, project):
    auth.login_as("pm")
    formwork = standard("3010.000")
    page = text_of(client.post_form(picker_url(project) + "browse", MultiDict([
        ("code", str(formwork.id)), ("go_to_page", "2"),
    ])))
    assert "<h1>Cost Codes from Company</h1>" in page and "Page 2 of 3" in page
    assert f'<input type="hidden" name="code" value="{formwork.id}">' in page
    assert "<strong>1 code selected</strong> (1 not listed here)." in page


def test_a_tampered_selection_is_refused_naming_the_value(client, auth, project):
    auth.login_as("pm")
    answer = client.htmx_post(picker_url(project) + "browse", {"code": "x1"})
    assert answer.status_code == 422
    assert '"x1" is not a cost code' in text_of(answer)
