"""The open Jobs tab's live address (issue 18): 304 without rendering while nothing changed, the
new counts and rows when something did, and nothing of another company (rule 9)."""

from __future__ import annotations

import re

import pytest
from flask import template_rendered
from sqlalchemy import select

from portal.extensions import db
from portal.models import CostCodeUpdateRequest, ErpJob, Project
from portal.models.levels import utcnow
from tests.helpers import company_by_slug, user_by_email, waiting_request

JOBS = "/erp-integrations/jobs"
LIVE = "/erp-integrations/jobs/live"


def shown_tag(page: str) -> tuple[str, str]:
    """The live address and tag a Jobs page carries for its script."""
    found = re.search(r'data-jobs-live="([^"]+)" data-etag="([^"]+)"', page)
    assert found, "the Jobs table carries no live address"
    return found.group(1).replace("&amp;", "&"), found.group(2).replace("&#34;", '"').replace("&quot;", '"')


def poll(client, url: str, tag: str, **headers):
    return client.get(url, headers={"HX-Request": "true", "If-None-Match": tag, **headers})


@pytest.fixture
def rendered(app):
    templates: list[str] = []

    def record(sender, template, context, **extra):
        templates.append(template.name)

    template_rendered.connect(record, app)
    yield templates
    template_rendered.disconnect(record, app)


def new_request(slug: str = "ridgeline") -> CostCodeUpdateRequest:
    """A project team sends a request (for a project with none open)."""
    company = company_by_slug(slug)
    busy = select(CostCodeUpdateRequest.project_id).where(CostCodeUpdateRequest.status == "requested")
    project = db.session.scalar(
        select(Project)
        .where(Project.company_id == company.id, Project.id.not_in(busy))
        .order_by(Project.number)
    )
    request = CostCodeUpdateRequest(
        company_id=company.id, project_id=project.id,
        requested_by_id=user_by_email(f"pm@{slug.replace('-', '')}.test").id,
    )
    db.session.add(request)
    db.session.commit()
    return request


def approve_as_colleague(request: CostCodeUpdateRequest) -> None:
    request.status = "approved"
    request.approved_by_id = user_by_email("admin@ridgeline.test").id
    request.approved_at = utcnow()
    db.session.commit()


def test_unchanged_tab_is_answered_304_without_rendering(client, auth, rendered):
    auth.login_as("approver")
    url, tag = shown_tag(client.get(JOBS).get_data(as_text=True))
    rendered.clear()
    answer = poll(client, url, tag)
    assert answer.status_code == 304 and answer.get_data() == b""
    assert answer.headers["ETag"] == tag and answer.headers["Cache-Control"] == "no-store"
    assert rendered == []


@pytest.mark.parametrize("form", ['W/"{}"', '"{}:gzip"', '"{}-gzip"', 'W/"{}:br"', '"other", W/"{}"'])
def test_tag_comes_back_from_compression_still_matches(client, auth, form):
    # Flask-Compress sends "tag:gzip", a proxy's gzip makes it weak: the script sends back what it got.
    auth.login_as("approver")
    url, tag = shown_tag(client.get(JOBS).get_data(as_text=True))
    bare = tag.removeprefix("W/").strip('"')
    assert poll(client, url, form.format(bare)).status_code == 304


def test_a_new_request_changes_the_tab_with_its_row_counts_and_badge(client, auth):
    auth.login_as("approver")
    url, tag = shown_tag(client.get(JOBS).get_data(as_text=True))
    request = new_request()
    answer = poll(client, url, tag)
    assert answer.status_code == 200 and answer.headers["ETag"] != tag
    body = answer.get_data(as_text=True)
    assert f'id="update-request-{request.id}"' in body
    assert re.search(r'aria-current="true">Ready to Update <span class="count">4</span>', body)
    assert re.search(r'id="waiting-badge"[^>]*>4<', body)
    # The answer's own tag is current: asked again, nothing changed.
    assert poll(client, url, answer.headers["ETag"]).status_code == 304


def test_a_colleagues_approval_redraws_the_row_as_approved(client, auth):
    auth.login_as("approver")
    url, tag = shown_tag(client.get(JOBS).get_data(as_text=True))
    request = waiting_request()
    approve_as_colleague(request)
    body = poll(client, url, tag).get_data(as_text=True)
    row = body[body.index(f'id="update-request-{request.id}"'):]
    row = row[: row.index("</tr>")]
    assert "Approved</span> by Company Admin (Ridgeline)" in row
    assert re.search(r'id="waiting-badge"[^>]*>2<', body)


@pytest.mark.parametrize("change", ["sync_failure", "erp_job", "archived", "link_error"])
def test_syncs_and_failures_change_the_tag(client, auth, change):
    auth.login_as("approver")
    filters = {"sync_failure": "failed_to_export", "erp_job": "ready_to_import"}
    url, tag = shown_tag(client.get(f"{JOBS}?filter={filters.get(change, 'synced')}").get_data(as_text=True))
    company = company_by_slug("ridgeline")
    project = db.session.scalar(
        select(Project).where(Project.company_id == company.id).order_by(Project.number.desc())
    )
    if change == "sync_failure":
        request = waiting_request()
        approve_as_colleague(request)
        url, tag = shown_tag(client.get(f"{JOBS}?filter=failed_to_export").get_data(as_text=True))
        request.status = "failed"
        request.last_error = "The ERP was not reachable."
    elif change == "erp_job":
        db.session.add(ErpJob(company_id=company.id, number="2499", name="Old Mill Lofts"))
    elif change == "archived":
        project.archived = True
    else:
        project.erp_link_message = "The ERP refused the job number."
    db.session.commit()
    answer = poll(client, url, tag)
    assert answer.status_code == 200, change


def test_another_companys_changes_never_show(client, auth):
    # Rule 9: Harbor Point's requests, ERP jobs and projects leave Ridgeline's tab unchanged.
    auth.login_as("approver")
    url, tag = shown_tag(client.get(JOBS).get_data(as_text=True))
    new_request("harbor-point")
    harbor = company_by_slug("harbor-point")
    db.session.add(ErpJob(company_id=harbor.id, number="9001", name="Pier 9"))
    approve_as_colleague_elsewhere = waiting_request("harbor-point")
    approve_as_colleague_elsewhere.status = "approved"
    db.session.scalar(select(Project).where(Project.company_id == harbor.id)).archived = True
    db.session.commit()
    assert poll(client, url, tag).status_code == 304


def test_the_tag_tells_nothing_and_differs_per_company_and_user(client, auth):
    # Both demo companies are seeded alike: equal numbers must still give unrelated tags.
    tags = {}
    for email in ("approver@ridgeline.test", "admin@ridgeline.test", "approver@harborpoint.test"):
        auth.login_as(email)
        tags[email] = shown_tag(client.get(JOBS).get_data(as_text=True))[1]
    assert len(set(tags.values())) == 3
    for tag in tags.values():
        assert re.fullmatch(r'W/"[0-9a-f]{24}"', tag)


def test_another_users_tag_is_not_answered_304(client, auth):
    # A tag from another user's view (their rows differ: their own requests, their rights).
    auth.login_as("admin")
    url, admin_tag = shown_tag(client.get(JOBS).get_data(as_text=True))
    auth.login_as("approver")
    assert poll(client, url, admin_tag).status_code == 200


def test_refreshed_rows_keep_update_disabled_with_its_reason(client, auth):
    # Rule 1: the Staff Accountant cannot push to accounting; a refreshed row says so too.
    auth.login_as("accountant")
    url, tag = shown_tag(client.get(JOBS).get_data(as_text=True))
    request = new_request()
    body = poll(client, url, tag).get_data(as_text=True)
    row = body[body.index(f'id="update-request-{request.id}"'):]
    row = row[: row.index("</tr>")]
    assert 'disabled aria-describedby="approve-refusal"' in row and "<form" not in row
    assert 'id="approve-refusal"' in body and "Can Push to Accounting" in body


def test_search_and_page_have_their_own_address_and_tag(client, auth):
    auth.login_as("approver")
    url, tag = shown_tag(client.get(f"{JOBS}?filter=synced&q=maple").get_data(as_text=True))
    assert "filter=synced" in url and "q=maple" in url
    answer = poll(client, LIVE + "?filter=synced", tag)
    assert answer.status_code == 200 and "RB-2405" in answer.get_data(as_text=True)


def test_signed_out_tab_is_told_to_log_in(client):
    answer = client.get(LIVE, headers={"HX-Request": "true", "If-None-Match": 'W/"x"'})
    assert answer.status_code == 401 and "/login" in answer.headers["HX-Redirect"]


def test_unchanged_answers_are_not_logged_at_info(client, auth, caplog):
    auth.login_as("approver")
    url, tag = shown_tag(client.get(JOBS).get_data(as_text=True))
    caplog.clear()
    with caplog.at_level("INFO", logger="portal.requests"):
        assert poll(client, url, tag).status_code == 304
        new_request()
        assert poll(client, url, tag).status_code == 200
    logged = [record.getMessage() for record in caplog.records if record.name == "portal.requests"]
    assert len(logged) == 1 and " 200 " in logged[0]


def test_compressed_answers_keep_the_304_path(app, client, auth, rendered):
    # Flask-Compress answers 304 itself only after rendering, and renames a strong tag "…:gzip":
    # the tag the browser got with a compressed 200 must still skip the render.
    flask_compress = pytest.importorskip("flask_compress")
    flask_compress.Compress(app)
    auth.login_as("approver")
    url, tag = shown_tag(client.get(JOBS).get_data(as_text=True))
    new_request()
    gzip = {"Accept-Encoding": "gzip"}
    changed = poll(client, url, tag, **gzip)
    assert changed.status_code == 200 and changed.headers["Content-Encoding"] == "gzip"
    compressed_tag = changed.headers["ETag"]
    rendered.clear()
    bare = compressed_tag.removeprefix("W/").strip('"')
    for sent in (compressed_tag, f'"{bare}:gzip"'):  # as this version sends it, and a strong one
        assert poll(client, url, sent, **gzip).status_code == 304, sent
    assert rendered == []
