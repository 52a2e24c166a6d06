"""Company Admin → ERP Standard Cost Codes: the company list, search, division filter, archive."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, StandardCostCode
from tests.helpers import company_by_slug, user_by_email

LIST = "/company-admin/standard-cost-codes"


def code(value: str, slug: str = "ridgeline") -> StandardCostCode:
    db.session.expire_all()
    return db.session.scalar(select(StandardCostCode).where(
        StandardCostCode.company_id == company_by_slug(slug).id, StandardCostCode.code == value))


def test_list_shows_code_description_division_and_states(client, auth):
    auth.login_as("admin")
    page = client.get(LIST).data.decode()
    assert "1010.000" in page and "Project Management" in page
    assert "1000 General Requirements" in page
    assert "03-300" not in page  # Harbor Point's codes are not Ridgeline's
    assert 'include "company_admin/_refresh_all.html"' not in page


def test_list_searches_by_code_or_description(client, auth):
    auth.login_as("admin")
    by_description = client.htmx_get(f"{LIST}?q=drywall").data.decode()
    assert "9010.000" in by_description and "Painting" not in by_description
    by_code = client.get(f"{LIST}?q=3030").data.decode()
    assert "Footings" in by_code and "Formwork" not in by_code


def test_list_filters_by_division(client, auth):
    auth.login_as("admin")
    page = client.get(f"{LIST}?division=16000").data.decode()
    assert "16010.000" in page and "1010.000" not in page
    assert "10 in all" in page
    # An unknown division is ignored rather than failing.
    assert client.get(f"{LIST}?division=nonsense").status_code == 200


def test_list_is_paged(client, auth):
    auth.login_as("admin")
    first = client.get(LIST).data.decode()
    assert "Page 1 of 3 (150 in all)" in first


def test_admin_archives_and_unarchives_a_code_with_an_audit_event(client, auth):
    auth.login_as("admin")
    target = code("2010.000")
    archived = client.post_form(f"{LIST}/{target.id}/archived", {"archived": "yes"}, follow_redirects=True)
    assert b"Archived 2010.000 Demolition." in archived.data
    assert code("2010.000").archived
    restored = client.post_form(f"{LIST}/{target.id}/archived", {"archived": "no"}, follow_redirects=True)
    assert b"Unarchived 2010.000 Demolition." in restored.data
    assert not code("2010.000").archived
    details = [e.details for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "standard_cost_code").order_by(AuditEvent.id))]
    assert details == [{"before": "Not archived", "after": "Archived"},
                       {"before": "Archived", "after": "Not archived"}]


def test_archive_returns_to_the_page_the_admin_was_on(client, auth):
    auth.login_as("admin")
    target = code("2010.000")
    response = client.post_form(f"{LIST}/{target.id}/archived",
                                {"archived": "yes", "back": f"{LIST}?q=demo&page=1"})
    assert response.headers["Location"] == f"{LIST}?q=demo&page=1"
    offsite = client.post_form(f"{LIST}/{target.id}/archived",
                               {"archived": "no", "back": "https://evil.example/"})
    assert offsite.headers["Location"] == LIST


def test_read_only_company_admin_sees_the_list_without_archive_buttons(client, auth):
    auth.login_as("viewer")
    user_by_email("viewer@ridgeline.test").company_admin_level = 1
    db.session.commit()
    page = client.get(LIST)
    assert page.status_code == 200 and b">Archive<" not in page.data
    target = code("2010.000")
    assert client.post_form(f"{LIST}/{target.id}/archived", {"archived": "yes"}).status_code == 403
    assert not code("2010.000").archived


def test_archiving_a_foreign_code_is_not_found(client, auth):
    auth.login_as("admin")
    foreign = code("03-300", "harbor-point")
    response = client.post_form(f"{LIST}/{foreign.id}/archived", {"archived": "yes"})
    assert response.status_code == 404
    assert not code("03-300", "harbor-point").archived
