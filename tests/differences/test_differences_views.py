"""The Differences with ERP tab, its CSV, its actions and the Cost Code page's line, as the people
who use them see them: permissions, rule 9, refusals naming the code."""
from __future__ import annotations

import csv
import html
import io
import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    CostCodeUpdateRequest,
    CostTypeAssignment,
    ErpDifference,
    ProjectCostCode,
)
from tests.differences.helpers import (
    add_project_code,
    compare,
    difference,
    differences,
    project,
    put_on_job,
    standard_code_not_on,
)
from tests.helpers import audit_count, project_code

LIST = "/erp-integrations/differences"


def cost_code_url(project_) -> str:
    return f"/projects/{project_.id}/admin/work-breakdown-structure/segments/cost-code/"


def text_of(response) -> str:
    """The page as a person reads it: tags dropped, entities decoded, white space folded."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(words))


def three_differences(app, erp):
    """RB-2401: a code the job lacks and a description that differs; RB-2402: a job code it lacks."""
    rb1, rb2 = project("RB-2401"), project("RB-2402")
    add_project_code(rb1, "9910.000", "Portal only", {"1": "new", "2": "new"})
    code = db.session.scalar(
        select(ProjectCostCode).where(ProjectCostCode.project_id == rb1.id).order_by(ProjectCostCode.code)
    )
    code.description = "Portal wording"
    db.session.commit()
    standard = standard_code_not_on(rb2)
    put_on_job(erp, "ridgeline", "2402", standard.code, standard.description, "1")
    compare(app, "ridgeline")
    return rb1, rb2, code.code, standard


def test_the_list_has_each_kind_with_counts_search_and_filters(app, client, auth, erp):
    rb1, rb2, described, standard = three_differences(app, erp)
    auth.login_as("viewer")
    page = text_of(client.get(LIST))
    assert "Differences with ERP" in page
    assert "All differences 3" in page and "Not on the ERP job 1" in page
    assert "Not on the project 1" in page and "Descriptions differ 1" in page
    assert "Cost types differ 0" in page
    assert "9910.000" in page and standard.code in page and "Portal wording" in page
    assert "keeps no cost type on a job's cost code" in page  # Sage 100: cost types not compared
    only = text_of(client.get(f"{LIST}?filter=missing_in_project"))
    assert standard.code in only and "9910.000" not in only
    found = text_of(client.get(f"{LIST}?q=9910"))
    assert "9910.000" in found and standard.code not in found
    # The viewer sees the actions disabled, with the reason.
    assert "You need Admin on this project's Admin tool" in page


def test_download_csv_lists_the_filtered_differences_with_formulas_defused(app, client, auth, erp):
    rb1 = project("RB-2401")
    add_project_code(rb1, "9910.000", '=HYPERLINK("http://x.invalid")', {"1": "new"})
    compare(app, "ridgeline")
    auth.login_as("viewer")
    response = client.get(f"{LIST}.csv?filter=missing_in_erp")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][:4] == ["Project", "ERP job", "Cost code", "Difference"]
    assert rows[2][1:5] == ["2401", "9910.000", "Not on the ERP job", "'=HYPERLINK(\"http://x.invalid\")"]
    assert rows[2][6] == "1"  # the project's cost types


def test_send_to_erp_goes_through_the_projects_update_request(app, client, auth, erp):
    rb1 = project("RB-2401")
    add_project_code(rb1, "9910.000", "Portal only", {"1": "new", "2": "new"})
    compare(app, "ridgeline")
    row = difference(rb1, "missing_in_erp", "9910.000")
    auth.login_as("pm")
    response = client.htmx_post(f"{LIST}/{row.id}/send?project={rb1.id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    page = text_of(response)
    assert "Sent 9910.000 of RB-2401" in page and "Ready to Update" in page
    db.session.expire_all()
    request = db.session.scalar(select(CostCodeUpdateRequest).where(
        CostCodeUpdateRequest.project_id == rb1.id, CostCodeUpdateRequest.status == "requested"
    ))
    assert request is not None  # the approver still has to approve it
    lines = {(line.code, line.cost_type_code) for line in request.lines}
    assert lines >= {("9910.000", "1"), ("9910.000", "2")}
    assert {a.erp_state for a in project_code(rb1, "9910.000").assignments} == {"requested"}
    assert differences(rb1) == set()  # waiting for approval: no longer a difference
    assert audit_count("cost_code_update.request") == 1


def test_add_to_project_adds_the_erp_jobs_code_for_a_project_admin_from_the_cost_code_page_link(
    app, client, auth, erp
):
    rb2 = project("RB-2402")
    standard = standard_code_not_on(rb2)
    put_on_job(erp, "ridgeline", "2402", standard.code, standard.description, "1")
    compare(app, "ridgeline")
    auth.login_as("pm")  # no ERP Integrations access: the project's own list only
    assert client.get(LIST).status_code == 403
    cost_code_page = text_of(client.get(cost_code_url(rb2)))
    assert "1 difference with ERP job 2402" in cost_code_page
    listed = client.get(f"{LIST}?project={rb2.id}")
    assert listed.status_code == 200 and standard.code in text_of(listed)
    row = difference(rb2, "missing_in_project", standard.code)
    response = client.post_form(f"{LIST}/{row.id}/add?project={rb2.id}")
    assert response.status_code == 302
    added = project_code(rb2, standard.code)
    assert added is not None and added.description == standard.description and added.origin == "company"
    assert added.standard_cost_code_id == standard.id
    assert added.assignments == []  # Sage 100 Contractor keeps no cost type on the job's code
    assert differences(rb2) == set()
    assert audit_count("erp_difference.add_to_project") == 1
    flashed = text_of(client.get(f"{LIST}?project={rb2.id}"))
    assert f"Added {standard.code} of RB-2402" in flashed and "tick its cost types" in flashed


def test_add_to_project_ties_the_erp_jobs_categories_on_sage300(app, client, auth, erp):
    hp = project("HP-301")
    code = db.session.scalar(
        select(ProjectCostCode).where(ProjectCostCode.project_id == hp.id).order_by(ProjectCostCode.code)
    )
    had = {a.cost_type.code for a in code.assignments}
    extra = next(t for t in ("LAB", "MAT", "SUB", "EQP", "OTH") if t not in had)
    put_on_job(erp, "harbor-point", "23-0301", code.code, code.description, extra)
    compare(app, "harbor-point")
    row = difference(hp, "cost_types", code.code)
    auth.login_as("admin", company="harborpoint.test")
    page = text_of(client.get(f"{LIST}?filter=cost_types"))
    assert "Cost types differ 1" in page and "Add to project" in page and "Send to ERP" not in page
    response = client.htmx_post(f"{LIST}/{row.id}/add")
    assert response.status_code == 200
    db.session.expire_all()
    states = {a.cost_type.code: a.erp_state for a in project_code(hp, code.code).assignments}
    assert states[extra] == "exported"
    assert differences(hp) == set()


def test_refusals_name_the_code_and_change_nothing(app, client, auth, erp):
    rb1, _rb2, described, _standard = three_differences(app, erp)
    row = difference(rb1, "missing_in_erp", "9910.000")
    row_id = row.id

    def requested():
        return db.session.scalar(select(func.count()).select_from(CostTypeAssignment).where(
            CostTypeAssignment.erp_state == "requested"))

    before, requested_before = db.session.scalar(select(func.count()).select_from(AuditEvent)), requested()
    auth.login_as("viewer")  # ERP Integrations Read Only, nothing on the project
    response = client.htmx_post(f"{LIST}/{row_id}/send")
    assert response.status_code == 403
    assert "9910.000 of RB-2401" in text_of(response)
    auth.login_as("admin")
    description_row = difference(rb1, "description", described)
    refused = client.htmx_post(f"{LIST}/{description_row.id}/send")
    assert refused.status_code == 409 and f"{described} of RB-2401" in text_of(refused)
    no_type = add_project_code(rb1, "9950.000", "No cost type", {})
    compare(app, "ridgeline")
    bare = difference(rb1, "missing_in_erp", no_type.code)
    refused = client.htmx_post(f"{LIST}/{bare.id}/send")
    assert refused.status_code == 409
    assert "9950.000 of RB-2401 Maple Street Medical Office has no cost type" in text_of(refused)
    assert requested() == requested_before
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
    # Without the CSRF token nothing is done.
    assert client.post(f"{LIST}/{row_id}/send").status_code == 400


def test_rule_9_another_companys_differences_are_404(app, client, auth, erp):
    rb1 = project("RB-2401")
    add_project_code(rb1, "9910.000", "Portal only", {"1": "new"})
    compare(app, "ridgeline")
    row = difference(rb1, "missing_in_erp", "9910.000")
    auth.login_as("admin", company="harborpoint.test")
    assert client.post_form(f"{LIST}/{row.id}/send").status_code == 404
    assert client.post_form(f"{LIST}/{row.id}/add").status_code == 404
    assert client.get(f"{LIST}?project={rb1.id}").status_code == 404
    assert client.get(f"{LIST}.csv?project={rb1.id}").status_code == 404
    assert "9910.000" not in text_of(client.get(LIST))
    assert "9910.000" not in client.get(f"{LIST}.csv").get_data(as_text=True)
    assert db.session.scalar(select(ErpDifference.id).where(ErpDifference.id == row.id))


def test_compare_now_is_for_erp_integrations_admins_and_audited(app, client, auth, erp):
    rb1 = project("RB-2401")
    add_project_code(rb1, "9910.000", "Portal only", {"1": "new"})
    auth.login_as("approver")
    response = client.htmx_post(f"{LIST}/compare")
    assert response.status_code == 403  # refused before any ERP call
    assert differences(rb1) == set()
    auth.login_as("admin")
    response = client.htmx_post(f"{LIST}/compare")
    assert response.status_code == 200
    assert "Compared 8 ERP jobs with their projects." in text_of(response)
    assert differences(rb1) == {("missing_in_erp", "9910.000")}
    assert audit_count("erp_differences.compare") == 1


def test_a_connector_that_cannot_read_job_codes_says_so_instead_of_no_differences(
    app, client, auth, erp, tmp_path
):
    app.config.update(ERP_CONNECTOR="ridgeline=sage100_files", SAGE100_INBOX_DIR=str(tmp_path / "in"),
                      SAGE100_OUTBOX_DIR=str(tmp_path / "out"))
    compare(app, "ridgeline")
    auth.login_as("admin")
    page = text_of(client.get(LIST))
    assert "file connector cannot read a job's cost codes" in page
    assert "No differences" not in page and "Download CSV" not in page
    rb1 = project("RB-2401")
    cost_code_page = text_of(client.get(cost_code_url(rb1)))
    assert "Differences with ERP job 2401 cannot be listed" in cost_code_page


def test_the_cost_code_page_says_how_many_differences_and_links_to_them(app, client, auth, erp):
    rb1, _rb2, _described, _standard = three_differences(app, erp)
    auth.login_as("admin")
    response = client.get(cost_code_url(rb1))
    body = response.get_data(as_text=True)
    assert "2 differences with ERP job 2401" in text_of(response)
    assert f'href="/erp-integrations/differences?project={rb1.id}"' in body
    own = text_of(client.get(f"{LIST}?project={rb1.id}"))
    assert "All differences 2" in own and "Differences with ERP: RB-2401" in own
