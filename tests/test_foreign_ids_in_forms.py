"""Rule 9 inside form bodies: an id of the other company posted in a form field changes nothing.

The route sweep puts foreign ids in URLs; here each form that carries ids in its fields (Ready
to Import add/hide/link, Link to project, Update with several rows ticked, the Directory's
project levels, the project Cost Codes row actions and Cost Codes from Company) is posted by an
admin with the other company's ids, both ways between the demo companies. Nothing of the other
company may change, and the answer is a refusal (a 4xx, or for Update with several rows ticked
a "not approved" row) that names none of its data.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import url_for
from sqlalchemy import inspect, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    CostCodeUpdateRequest,
    CostType,
    CostTypeAssignment,
    ErpJob,
    Project,
    ProjectCostCode,
    ProjectPermission,
)
from portal.models.levels import Level
from tests.helpers import company_by_slug, first_project, user_by_email, waiting_request
from tests.route_table import COMPANIES, _first_standard_cost_code


def _new_erp_job(slug: str, number: str, name: str) -> ErpJob:
    job = ErpJob(company_id=company_by_slug(slug).id, number=number, name=name)
    db.session.add(job)
    db.session.commit()
    return job


def _unlinked_project(slug: str) -> Project:
    """A project of the company with no ERP job, as Link to project offers."""
    project = Project(
        company_id=company_by_slug(slug).id, number="9901", name=f"Unlinked Annex ({slug})",
        erp_link_state="ready_to_export",
    )
    db.session.add(project)
    db.session.commit()
    return project


def _cost_code(slug: str) -> ProjectCostCode:
    return first_project(slug).cost_codes[0]


def _cost_type(slug: str) -> CostType:
    return db.session.scalar(
        select(CostType).where(CostType.company_id == company_by_slug(slug).id).order_by(CostType.id)
    )


@dataclass(frozen=True)
class FormCase:
    endpoint: str
    # the URL's own arguments, from the home company's slug
    url_args: Callable[[str], dict[str, object]]
    # the posted fields, from the foreign company's slug
    fields: Callable[[str], dict[str, object]]
    # Update with several rows ticked answers each row on its own (one refusal stops only its
    # own request), so its refusal is a row of its results list rather than a 4xx.
    refused_in_results: bool = False


def _home_job(slug: str) -> dict[str, object]:
    return {"erp_job_id": _new_erp_job(slug, "5150", "Home Yard Shed").id}


CASES = {
    "add": FormCase(
        "erp_integrations.add_erp_job", lambda home: {},
        lambda foreign: {"erp_job_id": _new_erp_job(foreign, "7311", "Pier Seven Fitout").id},
    ),
    "hide": FormCase(
        "erp_integrations.hide_erp_job", lambda home: {},
        lambda foreign: {"erp_job_id": _new_erp_job(foreign, "7311", "Pier Seven Fitout").id},
    ),
    "link-erp-job": FormCase(
        "erp_integrations.link_erp_job", lambda home: {"project_id": _unlinked_project(home).id},
        lambda foreign: {"erp_job_id": _new_erp_job(foreign, "7311", "Pier Seven Fitout").id},
    ),
    "link-project": FormCase(
        "erp_integrations.link_project", _home_job,
        lambda foreign: {"project_id": _unlinked_project(foreign).id},
    ),
    "update-several": FormCase(
        "erp_integrations.approve_several_requests", lambda home: {},
        lambda foreign: {"request": f"{waiting_request(foreign).id}:{len(waiting_request(foreign).lines)}"},
        refused_in_results=True,
    ),
    "project-levels": FormCase(
        "company_admin.set_project_levels",
        lambda home: {"user_id": user_by_email(f"viewer@{COMPANIES[home]}").id},
        lambda foreign: {f"project-{first_project(foreign).id}": int(Level.ADMIN)},
    ),
    "remove-cost-code": FormCase(
        "project_admin.remove_cost_code", lambda home: {"project_id": first_project(home).id},
        lambda foreign: {"cost_code": _cost_code(foreign).id},
    ),
    "cost-code-active": FormCase(
        "project_admin.set_cost_code_active", lambda home: {"project_id": first_project(home).id},
        lambda foreign: {"cost_code": _cost_code(foreign).id, "active": "no"},
    ),
    "assign-foreign-code": FormCase(
        "project_admin.assign_cost_type", lambda home: {"project_id": first_project(home).id},
        lambda foreign: {
            "cost_code": _cost_code(foreign).id, "cost_type": _cost_type(foreign).id, "assigned": "no",
        },
    ),
    "add-from-company": FormCase(
        "project_admin.add_cost_codes_from_company", lambda home: {"project_id": first_project(home).id},
        lambda foreign: {
            "code": _first_standard_cost_code(foreign), "every_code_cost_type": _cost_type(foreign).id,
        },
    ),
}


def _rows(model, *where) -> list[dict[str, object]]:
    columns = [attribute.key for attribute in inspect(model).column_attrs]
    rows = db.session.scalars(select(model).where(*where).order_by(model.id)).all()
    return [{name: getattr(row, name) for name in columns} for row in rows]


def _company_state(slug: str) -> dict[str, list[dict[str, object]]]:
    """Everything of the company the forms above could change."""
    company_id = company_by_slug(slug).id
    project_ids = select(Project.id).where(Project.company_id == company_id)
    code_ids = select(ProjectCostCode.id).where(ProjectCostCode.project_id.in_(project_ids))
    db.session.expire_all()
    return {
        "erp jobs": _rows(ErpJob, ErpJob.company_id == company_id),
        "projects": _rows(Project, Project.company_id == company_id),
        "requests": _rows(CostCodeUpdateRequest, CostCodeUpdateRequest.company_id == company_id),
        "cost codes": _rows(ProjectCostCode, ProjectCostCode.project_id.in_(project_ids)),
        "assignments": _rows(CostTypeAssignment, CostTypeAssignment.project_cost_code_id.in_(code_ids)),
        "project permissions": _rows(ProjectPermission, ProjectPermission.project_id.in_(project_ids)),
        "audit events": _rows(AuditEvent, AuditEvent.company_id == company_id),
    }


def _foreign_names(slug: str) -> list[str]:
    company_id = company_by_slug(slug).id
    projects = db.session.scalars(select(Project.name).where(Project.company_id == company_id)).all()
    jobs = db.session.scalars(select(ErpJob.name).where(ErpJob.company_id == company_id)).all()
    return [company_by_slug(slug).name, *projects, *jobs]


DIRECTIONS = [("ridgeline", "harbor-point"), ("harbor-point", "ridgeline")]


@pytest.mark.parametrize(("home", "foreign"), DIRECTIONS, ids=lambda slug: slug)
@pytest.mark.parametrize("case", sorted(CASES))
def test_rule_9_foreign_id_in_a_form_changes_nothing(app, client, auth, case, home, foreign):
    form = CASES[case]
    auth.login_as("admin", company=COMPANIES[home])
    fields = form.fields(foreign)
    with app.test_request_context():
        url = url_for(form.endpoint, **form.url_args(home))
    before = _company_state(foreign)
    names = _foreign_names(foreign)

    response = client.htmx_post(url, data=fields)

    page = response.get_data(as_text=True)
    if form.refused_in_results:
        assert response.status_code == 200
        assert "Approved 0 of 1 ticked requests." in page
        assert "does not exist, or it is not part of your company" in page
    else:
        assert 400 <= response.status_code < 500, f"{url} {fields}: {response.status_code}"
    assert _company_state(foreign) == before
    named = [name for name in names if name in page]
    assert not named, f"the refusal names {foreign}'s {named}"
