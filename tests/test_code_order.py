"""Every list of cost codes is in the ERP's order: 2010.000 before 10010.000.

Sage 100 Contractor codes are numbers; listed as text, 10010.000 (Toilet Partitions) would
stand between 1000.000 and 1010.000, at the top of a project's Cost Code table.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.erp.base import ExportLine
from portal.erp.reference import ReferenceErp
from portal.extensions import db
from portal.models import CostType, ProjectCostCode, StandardCostCode, UpdateRequestLine
from tests.helpers import company_by_slug, first_project, waiting_request, window_url

# A code's cell: a table cell, or the row's header where the code names the row.
CODE_CELL = re.compile(r'<t[dh](?: scope="row")? class="code">([^<]+)</t[dh]>')


def erp_order(codes: list[str]) -> list[str]:
    """What a Sage 100 Contractor user expects: by the code's number."""
    return sorted(codes, key=float)


def add_project_codes(project, *codes: str) -> None:
    for code in codes:
        db.session.add(ProjectCostCode(project_id=project.id, code=code, description=f"Code {code}"))
    db.session.commit()


def test_project_cost_code_table_lists_codes_by_number(client, auth):
    project = first_project()
    add_project_codes(project, "10010.000", "100.000", "999999.999")
    auth.login_as("pm")
    page = client.get(f"/projects/{project.id}/admin/work-breakdown-structure/segments/cost-code/")
    codes = CODE_CELL.findall(page.get_data(as_text=True))
    assert len(codes) == 23
    assert codes == erp_order(codes)
    assert (codes[0], codes[-2], codes[-1]) == ("100.000", "10010.000", "999999.999")


def test_add_confirmation_names_the_added_codes_by_number(client, auth):
    project = first_project()
    chosen = db.session.scalars(
        select(StandardCostCode).where(
            StandardCostCode.company_id == company_by_slug("ridgeline").id,
            StandardCostCode.code.in_(("10010.000", "3010.000")),
        )
    ).all()
    assert len(chosen) == 2
    material = db.session.scalar(
        select(CostType.id).where(CostType.company_id == project.company_id, CostType.code == "1")
    )
    auth.login_as("pm")
    base = f"/projects/{project.id}/admin/work-breakdown-structure/segments/cost-code"
    response = client.post_form(
        f"{base}/from-company/",
        {"code": [str(code.id) for code in chosen], "every_code_cost_type": [str(material)]},
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Added 2 cost codes: 3010.000 Formwork, 10010.000 Toilet Partitions." in page


def test_erp_standard_cost_code_list_pages_codes_by_number(client, auth):
    auth.login_as("admin")
    first = CODE_CELL.findall(client.get("/company-admin/standard-cost-codes").get_data(as_text=True))
    last = CODE_CELL.findall(client.get("/company-admin/standard-cost-codes?page=3").get_data(as_text=True))
    stored = db.session.scalars(
        select(StandardCostCode.code).where(StandardCostCode.company_id == company_by_slug("ridgeline").id)
    ).all()
    in_order = erp_order(list(stored))
    assert first == in_order[: len(first)]
    assert last == in_order[-len(last) :]
    assert "10010.000" not in first  # text order would have put it on the first page


def test_cost_codes_for_update_window_lists_lines_by_number(client, auth):
    request = waiting_request("ridgeline")
    line = request.lines[0]
    for code in ("10010.000", "200.000"):
        db.session.add(UpdateRequestLine(
            request_id=request.id, project_cost_code_id=line.project_cost_code_id, code=code,
            description=f"Code {code}", cost_type_code=line.cost_type_code,
        ))
    db.session.commit()
    auth.login_as("approver")
    codes = CODE_CELL.findall(client.htmx_get(window_url(request)).get_data(as_text=True))
    assert codes == erp_order(codes)
    assert (codes[0], codes[-1]) == ("200.000", "10010.000")


def test_reference_erp_lists_a_jobs_codes_by_number(app):
    erp = ReferenceErp(app.config["ERP_DATABASE_URL"])
    try:
        erp.ensure_company("order-test", "sage100c")
        erp.add_cost_type("order-test", "1", "Material")
        for division in ("10000", "2000", "0"):  # Sage 100 Contractor needs a code's division first
            erp.add_division("order-test", division, f"Division {division}")
        erp.add_job("order-test", "77", "Order test job")
        results = erp.connector("order-test").export_cost_code_lines("77", [
            ExportLine(code, f"Code {code}", "1", None) for code in ("10010.000", "2010.000", "300.000")
        ])
        assert [result.outcome for result in results] == ["created"] * 3
        codes = [code for code, _, _ in erp.list_job_codes("order-test", "77")]
    finally:
        erp.dispose()
    assert codes == ["300.000", "2010.000", "10010.000"]
