"""Every URL rule the app has, tried as anonymous and as each demo role (after CTFd's sweep)."""
from __future__ import annotations

import importlib
import pkgutil

import pytest
from flask import url_for

import tests.route_table as route_table
from portal import create_app
from portal.config import TestConfig
from tests.route_table import COMPANIES, OBJECT_ARGUMENTS, ROLES, Route, company_arguments


def _load_table() -> dict[str, Route]:
    table: dict[str, Route] = {}
    for module_info in pkgutil.iter_modules(route_table.__path__):
        module = importlib.import_module(f"tests.route_table.{module_info.name}")
        table.update(module.ROUTES)
    return table


TABLE = _load_table()


def _app_rules():
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


def test_every_route_has_a_row_in_the_table():
    missing = sorted(set(_app_rules()) - set(TABLE))
    stale = sorted(set(TABLE) - set(_app_rules()))
    assert not missing, f"routes with no row in tests/route_table: {missing}"
    assert not stale, f"rows for routes the app no longer has: {stale}"


def _url(app, endpoint: str, route: Route, arguments) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = dict(route.fixed_args)
    for name in rule.arguments:
        if name not in values:
            values[name] = arguments[name]()
    with app.test_request_context():
        return url_for(endpoint, **values)


# Anonymous is the same request whichever company's ids the URL carries: tried once.
CASES = [
    pytest.param(endpoint, role, slug, id=f"{endpoint}-{role}-{slug}")
    for slug in COMPANIES
    for endpoint in sorted(TABLE)
    for role in ROLES
    if role != "anonymous" or slug == "ridgeline"
]


@pytest.mark.parametrize(("endpoint", "role", "slug"), CASES)
def test_route_answers_each_role_as_the_table_says(app, client, auth, endpoint, role, slug):
    route = TABLE[endpoint]
    if role != "anonymous":
        auth.login_as(role, company=COMPANIES[slug])
    url = _url(app, endpoint, route, company_arguments(slug, COMPANIES[slug]))
    response = client.get(url) if route.method == "GET" else client.post_form(url)
    assert response.status_code == route.expect[role], f"{route.method} {url} as {role} of {slug}"
    assert b"Traceback" not in response.data


ID_ENDPOINTS = sorted(e for e in TABLE if set(_app_rules()[e].arguments) & OBJECT_ARGUMENTS)

# (whose admin asks, whose ids the URL carries)
DIRECTIONS = [("ridgeline", "harbor-point"), ("harbor-point", "ridgeline")]

FOREIGN_CASES = [
    pytest.param(endpoint, home, foreign, id=f"{endpoint}-{home}-asks-for-{foreign}")
    for home, foreign in DIRECTIONS
    for endpoint in ID_ENDPOINTS
]


@pytest.mark.parametrize(("endpoint", "home", "foreign"), FOREIGN_CASES)
def test_rule_9_foreign_company_id_is_not_found(app, client, auth, endpoint, home, foreign):
    auth.login_as("admin", company=COMPANIES[home])
    route = TABLE[endpoint]
    url = _url(app, endpoint, route, company_arguments(foreign, COMPANIES[foreign]))
    response = client.get(url) if route.method == "GET" else client.post_form(url)
    assert response.status_code == 404, f"{route.method} {url} as the {home} admin"
