"""Approve several at once: an approver ticks Ready to Update rows and clicks Update once. Each
request is approved on its own, with its own checks and audit event; the answer names each."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import CostCodeUpdateRequest
from tests.helpers import audit_count, company_by_slug, user_by_email, waiting_request

JOBS = "/erp-integrations/jobs"
SEVERAL = "/erp-integrations/requests/update"


def _waiting(slug: str = "ridgeline") -> list[CostCodeUpdateRequest]:
    return list(db.session.scalars(
        select(CostCodeUpdateRequest)
        .where(
            CostCodeUpdateRequest.company_id == company_by_slug(slug).id,
            CostCodeUpdateRequest.status == "requested",
        )
        .order_by(CostCodeUpdateRequest.id)
    ))


def _ticked(*requests: CostCodeUpdateRequest) -> list[str]:
    return [f"{request.id}:{len(request.lines)}" for request in requests]


def test_ready_to_update_rows_can_be_ticked_for_one_update(client, auth):
    auth.login_as("approver")
    page = client.get(JOBS).get_data(as_text=True)
    assert '<form id="bulk-update"' in page and f'action="{SEVERAL}"' in page
    for request in _waiting():
        assert (
            f'<input type="checkbox" form="bulk-update" name="request" value="{request.id}:'
            f'{len(request.lines)}" aria-label="Tick {request.project.label} to approve">'
        ) in page
    auth.login_as("viewer")  # rule 1: nothing to tick for those who may not approve
    page = client.get(JOBS).get_data(as_text=True)
    assert "bulk-update" not in page


def test_update_with_several_ticked_approves_each_on_its_own_and_lists_each_result(client, auth):
    first, second, third = _waiting()
    company = company_by_slug("ridgeline")
    company.requester_may_not_approve = True
    third.requested_by_id = user_by_email("approver@ridgeline.test").id  # the two-person rule
    db.session.commit()
    stale = f"{second.id}:{len(second.lines) - 1}"  # lines were added since the page was shown
    auth.login_as("approver")
    response = client.htmx_post(SEVERAL, {"request": [_ticked(first)[0], stale, _ticked(third)[0]]})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Approved 1 of 3 ticked requests." in html
    assert (
        f"<li><strong>{first.project.label}</strong>: <span class=\"tag tag-ok\">Approved</span> "
        "Approved: the codes will be exported" in html
    )
    refused = '<span class="tag tag-error">Not approved</span>'
    assert f"<li><strong>{second.project.label}</strong>: {refused}" in html
    assert "changed since you opened the page" in html
    assert f"<li><strong>{third.project.label}</strong>: {refused}" in html
    assert "Requester may not approve their own request" in html
    db.session.expire_all()
    assert [request.status for request in (first, second, third)] == ["approved", "requested", "requested"]
    assert audit_count("cost_code_update.approve") == 1


def test_update_with_several_ticked_twice_has_one_effect_and_says_who_approved(client, auth):
    first, second, _ = _waiting()
    auth.login_as("approver")
    assert client.htmx_post(SEVERAL, {"request": _ticked(first, second)}).status_code == 200
    auth.login_as("admin")
    html = client.htmx_post(SEVERAL, {"request": _ticked(first, second)}).get_data(as_text=True)
    assert "Approved 0 of 2 ticked requests." in html
    assert html.count("Already approved by Accounting Approver (Ridgeline) at ") == 2
    assert audit_count("cost_code_update.approve") == 2


def test_update_with_several_ticked_works_without_javascript(client, auth):
    first, second, _ = _waiting()
    auth.login_as("admin")
    response = client.post_form(SEVERAL, {"request": _ticked(first, second)}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Approved 2 of 2 ticked requests." in html
    assert f"{first.project.label}: Approved: the codes will be exported" in html
    db.session.expire_all()
    assert first.status == second.status == "approved"


def test_update_with_nothing_ticked_or_a_bad_box_says_so_and_changes_nothing(client, auth):
    auth.login_as("approver")
    response = client.htmx_post(SEVERAL, {})
    assert response.status_code == 409
    assert "Tick at least one request under Ready to Update" in response.get_data(as_text=True)
    response = client.htmx_post(SEVERAL, {"request": [_ticked(waiting_request())[0], "12;DROP"]})
    assert response.status_code == 400
    assert "&#34;12;DROP&#34; is not a ticked request of the page" in response.get_data(as_text=True)
    assert audit_count("cost_code_update.approve") == 0


def test_update_with_several_ticked_refuses_those_who_may_not_approve_and_foreign_requests(client, auth):
    auth.login_as("viewer")
    assert client.htmx_post(SEVERAL, {"request": _ticked(waiting_request())}).status_code == 403
    auth.login_as("admin")
    foreign = waiting_request("harbor-point")
    html = client.htmx_post(SEVERAL, {"request": _ticked(foreign)}).get_data(as_text=True)
    assert f"Request {foreign.id}</strong>" in html and foreign.project.label not in html
    assert "does not exist, or it is not part of your company" in html
    db.session.expire_all()
    assert foreign.status == "requested"
