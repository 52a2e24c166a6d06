"""A service's refusal is answered the same way on every screen, by its kind (portal.web.errors)."""
from __future__ import annotations

import pytest
from flask import get_flashed_messages

from portal.services import NotFound, PermissionDenied, ServiceError
from portal.services.approvals import AlreadyDecided
from portal.web.errors import refusal_response

BACK = "/erp-integrations/jobs?filter=ready_to_update"
HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("That request does not exist."), 404),
        (PermissionDenied("You need Admin."), 403),
        (AlreadyDecided("Already approved by someone."), 409),
        (ServiceError("The codes changed since you opened the page."), 409),
    ],
)
def test_htmx_refusal_is_its_message_with_the_status_of_its_kind(app, error, status):
    with app.test_request_context("/", headers=HTMX):
        body, code = refusal_response(error, back=BACK)
    assert code == status
    assert 'class="flash flash-error"' in body and str(error) in body


@pytest.mark.parametrize(
    ("error", "status"),
    [(NotFound("That request does not exist."), 404), (PermissionDenied("You need Admin."), 403)],
)
def test_full_page_not_found_or_not_allowed_is_the_error_page(app, error, status):
    with app.test_request_context("/"):
        body, code = refusal_response(error, back=BACK)
    assert code == status
    assert "<h1>" in body and str(error) in body


def test_full_page_refusal_goes_back_with_the_message(app):
    with app.test_request_context("/"):
        response = refusal_response(ServiceError("Nothing new to send."), back=BACK)
        assert (response.status_code, response.location) == (302, BACK)
        assert get_flashed_messages(with_categories=True) == [("error", "Nothing new to send.")]
