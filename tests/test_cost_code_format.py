"""Company Admin → ERP Standard Cost Codes → Cost code format: the Sage 300 CRE mask (DESIGN: "A
code that does not fit the mask is refused with a message naming the code and the mask") and the
Sage 100 Contractor import file type; stored codes that no longer fit are listed as invalid."""
from __future__ import annotations

from html import unescape

from sqlalchemy import select

from portal.erp import formats
from portal.extensions import db
from portal.models import AuditEvent, StandardCostCode
from portal.services.project_cost_codes import company_codes_query
from tests.helpers import company_by_slug, first_project
from tests.refresh.refresh_support import add_company_code

LIST = "/company-admin/standard-cost-codes"
MASK = f"{LIST}/mask"
FILE_TYPE = f"{LIST}/file-type"


def codes_of(slug: str) -> dict[str, StandardCostCode]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(StandardCostCode).where(StandardCostCode.company_id == company_by_slug(slug).id)
    )
    return {row.code: row for row in rows}


def test_harbor_point_demo_codes_all_fit_its_realistic_mask(app):
    company = company_by_slug("harbor-point")
    assert company.cost_code_mask == "99-999"
    codes = codes_of("harbor-point")
    assert "03-100" in codes and "03-950" in codes
    for code in codes:
        assert formats.validate_cost_code(formats.SAGE300, code, company.mask) == code
    assert all(row.invalid_reason is None for row in codes.values())


def test_company_admin_shows_the_mask(client, auth):
    auth.login_as("admin", company="harborpoint.test")
    page = client.get(LIST).data.decode()
    assert "Cost code mask" in page and "99-999" in page


def test_rule_8_setting_a_mask_lists_codes_that_do_not_fit_as_invalid_and_keeps_them(client, auth):
    add_company_code("harbor-point", "03-1000", "Precast")
    admin = auth.login_as("admin", company="harborpoint.test")
    response = client.post_form(MASK, {"mask": "99-999"})
    assert response.status_code == 302
    codes = codes_of("harbor-point")
    assert codes["03-1000"].invalid_reason == (
        'Cost code "03-1000" does not fit 99-999; its section 2 has 4 characters where the mask has 3.'
    )
    assert codes["03-100"].invalid_reason is None
    assert not codes["03-1000"].addable
    page = client.get(LIST + "?q=03-1000").data.decode()
    assert "Invalid" in page and "does not fit 99-999" in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "company.cost_code_mask"))
    assert event.actor_id == admin.id and event.details["invalid_codes"] == 1

    # A wider mask fits it again: the mark goes, the code was never lost.
    client.post_form(MASK, {"mask": "99-9999"})
    assert codes_of("harbor-point")["03-1000"].invalid_reason is None
    assert company_by_slug("harbor-point").cost_code_mask == "99-9999"


def test_invalid_company_code_is_not_offered_for_adding_to_a_project(client, auth):
    add_company_code("harbor-point", "03-1000", "Precast")
    auth.login_as("admin", company="harborpoint.test")
    client.post_form(MASK, {"mask": "99-999"})
    project = first_project("harbor-point")
    listed = {code.code: code for code in db.session.scalars(company_codes_query(project, "03-"))}
    assert listed["03-1000"].addable is False


def test_mask_sage_could_not_have_is_refused_naming_it_and_nothing_changes(client, auth):
    auth.login_as("admin", company="harborpoint.test")
    response = client.post_form(MASK, {"mask": "99_999"}, follow_redirects=True)
    assert response.status_code == 200
    assert 'The cost code mask "99_999" is not valid' in unescape(response.data.decode())
    assert company_by_slug("harbor-point").cost_code_mask == "99-999"


def test_mask_needs_company_admin_admin(client, auth):
    auth.login_as("accountant", company="harborpoint.test")
    assert client.post_form(MASK, {"mask": "9-9"}).status_code == 403
    assert company_by_slug("harbor-point").cost_code_mask == "99-999"


def test_sage100_company_has_no_mask_but_chooses_its_import_file_type(client, auth):
    auth.login_as("admin")
    page = client.get(LIST).data.decode()
    assert "Cost code mask" not in page and "Tab delimited (.tab)" in page
    client.post_form(MASK, {"mask": "99-999"})
    assert company_by_slug("ridgeline").cost_code_mask is None
    client.post_form(FILE_TYPE, {"file_type": "qte"})
    assert company_by_slug("ridgeline").sage100_file_type == "qte"
    response = client.post_form(FILE_TYPE, {"file_type": "xls"}, follow_redirects=True)
    assert response.status_code == 200 and "not changed" in response.data.decode()
    assert company_by_slug("ridgeline").sage100_file_type == "qte"
