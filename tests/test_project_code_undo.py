"""Undoing on a project's Cost Code page: removing a code added by mistake, making a code that is
in the ERP inactive on the project, and what Send to ERP says when codes have no cost type."""
from __future__ import annotations

import html
import re

import pytest

from portal.extensions import db
from portal.models import ProjectCostCode
from tests.helpers import first_project


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
