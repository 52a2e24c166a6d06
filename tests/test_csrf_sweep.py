"""Every POST route refuses a request without a CSRF token, and changes nothing."""
from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent
from tests.helpers import AuthActions
from tests.route_table import URL_ARGUMENTS
from tests.test_route_sweep import TABLE, _app_rules

POST_ENDPOINTS = sorted(
    endpoint for endpoint, rule in _app_rules().items() if "POST" in (rule.methods or set())
)


def test_there_are_post_routes_to_sweep():
    assert "auth.logout" in POST_ENDPOINTS and "auth.login" in POST_ENDPOINTS


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_post_without_csrf_token_is_refused(app, client, auth, endpoint, htmx):
    auth.login_as("admin")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    route = TABLE.get(endpoint)
    values = dict(route.fixed_args) if route else {}
    for name in rule.arguments:
        values.setdefault(name, URL_ARGUMENTS[name]())
    with app.test_request_context():
        url = url_for(endpoint, **values)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(url, data={"reason": "x", "email": "admin@ridgeline.test"}, headers=headers)
    assert response.status_code == 400
    assert b"Reload the page" in response.data
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def _other_sessions_token(app) -> str:
    other = app.test_client()
    AuthActions(other).login_as("viewer")
    return other.csrf_token()


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
@pytest.mark.parametrize("token", ["wrong", "another-session"])
def test_post_with_a_wrong_or_another_sessions_csrf_token_is_refused(app, client, auth, endpoint, token):
    csrf_token = _other_sessions_token(app) if token == "another-session" else "IjEyMzQ1Ig.wrong.token"
    auth.login_as("admin")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    route = TABLE.get(endpoint)
    values = dict(route.fixed_args) if route else {}
    for name in rule.arguments:
        values.setdefault(name, URL_ARGUMENTS[name]())
    with app.test_request_context():
        url = url_for(endpoint, **values)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    form = {"csrf_token": csrf_token, "reason": "x", "email": "admin@ridgeline.test"}
    response = client.post(url, data=form)
    assert response.status_code == 400, url
    assert b"Reload the page" in response.data
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
