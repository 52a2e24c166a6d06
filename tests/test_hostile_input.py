"""Hostile values everywhere the app takes input: no answer is ever a 5xx.

Walks the app's URL map like the route sweep, so a route added later is swept without anyone
listing it: every path parameter gets ids no row can have, every GET gets hostile query keys,
and every form the app serves (found in its own pages) is posted with hostile values in each
field in turn. Run on SQLite and PostgreSQL (PostgreSQL refuses NUL bytes and 64-bit overflows
that SQLite would take, so both must be tried).
"""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from flask import url_for

from portal.demo import DEMO_PASSWORD
from tests.route_table import ROLES, URL_ARGUMENTS
from tests.test_route_sweep import TABLE, _app_rules

HOSTILE_IDS = ["9223372036854775808", "18446744073709551616", "99999999999999999999999"]

HOSTILE_VALUES = [
    "9223372036854775808",
    "-9223372036854775809",
    "1" + "0" * 20,
    "-1",
    "0",
    "NaN",
    "x\x00y",
    "\x00",
    "%",
    "_",
    "line\nbreak",
    "/%0Ax",
    "/\r\nSet-Cookie: x=1",
    "//evil.example/",
    "https://evil.example/",
    "9999-12-31",
    "0000-00-00",
    "2026-02-30",
    "'; DROP TABLE users; --",
    "<script>alert(1)</script>",
    "x" * 5000,
]

# Query keys a list may read, and keys nobody reads that must not reach url_for.
QUERY_KEYS = [
    "page", "q", "filter", "status", "kind", "division", "from", "to", "next", "back", "sort",
    "list_page", "endpoint", "_method", "_external", "_anchor", "_scheme",
]

GET_ENDPOINTS = sorted(e for e, route in TABLE.items() if route.method == "GET" and e != "static")
ID_ENDPOINTS = sorted(e for e, rule in _app_rules().items() if set(rule.arguments) & set(URL_ARGUMENTS)
                      and e != "static")


def _assert_no_server_error(response, what: str, usual_status: int = 200) -> None:
    # /healthz answers 503 by design while the database is not at head (as in these tests).
    status = response.status_code
    assert status < 500 or status == usual_status, f"{what}: {status}"
    assert b"Traceback" not in response.data, what
    location = response.headers.get("Location", "")
    assert "\n" not in location and "\r" not in location, what
    assert not location.startswith(("http://", "https://", "//")) or "evil" not in location, what


def _url(app, endpoint: str, **override) -> str:
    rule = _app_rules()[endpoint]
    values = dict(TABLE[endpoint].fixed_args)
    for name in rule.arguments:
        if name not in values:
            values[name] = override.get(name) or URL_ARGUMENTS[name]()
    with app.test_request_context():
        return url_for(endpoint, **values)


@pytest.mark.parametrize("endpoint", ID_ENDPOINTS)
def test_ids_no_row_can_have_are_not_found(app, client, auth, endpoint):
    auth.login_as("admin")
    rule = _app_rules()[endpoint]
    for name in set(rule.arguments) & set(URL_ARGUMENTS):
        for value in HOSTILE_IDS:
            url = _url(app, endpoint)
            real = str(URL_ARGUMENTS[name]())
            url = url.replace(f"/{real}", f"/{value}", 1)
            response = client.get(url) if TABLE[endpoint].method == "GET" else client.post_form(url)
            _assert_no_server_error(response, f"{TABLE[endpoint].method} {url}")
            assert response.status_code == 404, url


@pytest.mark.parametrize("endpoint", GET_ENDPOINTS)
def test_hostile_query_strings_never_give_a_server_error(app, client, auth, endpoint):
    url = _url(app, endpoint)
    usual_status = client.get(url).status_code
    for role in ROLES:
        if role == "anonymous":
            with client.session_transaction() as session:
                session.clear()
        else:
            auth.login_as(role)
        for value in HOSTILE_VALUES:
            query = urlencode(dict.fromkeys(QUERY_KEYS, value))
            # The htmx partials are the same views: tried as the role that sees the most.
            for headers in ({}, {"HX-Request": "true"}) if role == "admin" else ({},):
                response = client.get(f"{url}?{query}", headers=headers)
                _assert_no_server_error(response, f"GET {url}?{query[:80]} as {role}", usual_status)
                if response.status_code == 200:
                    body = response.get_data(as_text=True)
                    assert 'href="http://localhost' not in body, f"absolute link built from Host: {url}"


class _Forms(HTMLParser):
    """The forms of a page: action, method and the names and values of their fields."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = attrs.get("method") or ("post" if attrs.get("hx-post") else "get")
            self._open = {"action": attrs.get("action") or attrs.get("hx-post") or "",
                          "method": method.lower(), "fields": {}}
            if attrs.get("hx-post") and not attrs.get("action"):
                self._open["action"] = attrs["hx-post"]
            self.forms.append(self._open)
        elif self._open is not None and tag in ("input", "textarea") and attrs.get("name"):
            self._open["fields"].setdefault(attrs["name"], attrs.get("value") or "")
        elif self._open is not None and tag == "select" and attrs.get("name"):
            self._select = attrs["name"]
            self._open["fields"].setdefault(self._select, "")
        elif tag == "option" and self._select and self._open is not None:
            if not self._open["fields"][self._select]:
                self._open["fields"][self._select] = attrs.get("value") or ""
        elif tag == "button" and self._open is not None and attrs.get("hx-post"):
            self.forms.append({"action": attrs["hx-post"], "method": "post", "fields": {}})

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None
        elif tag == "select":
            self._select = None


def _forms_on(client, url: str) -> list[dict]:
    response = client.get(url)
    if response.status_code != 200 or "text/html" not in response.content_type:
        return []
    parser = _Forms()
    parser.feed(response.get_data(as_text=True))
    return [form for form in parser.forms if form["method"] == "post" and form["action"]]


def _all_forms(app, client) -> dict[str, dict]:
    """Every POST form the portal serves to an admin: one per endpoint, with every field seen."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, dict] = {}
    for endpoint in GET_ENDPOINTS:
        for form in _forms_on(client, _url(app, endpoint)):
            action_endpoint, _ = adapter.match(urlsplit(form["action"]).path, method="POST")
            found.setdefault(action_endpoint, form)
            found[action_endpoint]["fields"] = {**form["fields"], **found[action_endpoint]["fields"]}
    return found


def test_the_sweep_finds_the_portals_forms(app, client, auth):
    auth.login_as("admin")
    paths = _all_forms(app, client)
    # A sweep that found no forms would pass by testing nothing.
    assert {"erp_integrations.reject", "company_admin.set_standard_cost_code_archived",
            "project_admin.add_cost_codes_from_company", "company_admin.add_user"} <= set(paths), paths


def test_hostile_form_fields_never_give_a_server_error(app, client, auth):
    auth.login_as("admin")
    forms = _all_forms(app, client)
    for endpoint, form in sorted(forms.items()):
        if endpoint == "auth.logout":
            continue
        for field, original in form["fields"].items():
            if field == "csrf_token":
                continue
            # A return address checked only for its start: the real value with a bad tail.
            tails = [original + tail for tail in ("?\nx", "?%0Ax", "\x00", "\r\nx") if original]
            for value in HOSTILE_VALUES + tails:
                data = {**form["fields"], field: value}
                data.pop("csrf_token", None)
                for headers in ({}, {"HX-Request": "true"}):
                    response = client.post_form(form["action"], data, headers=headers)
                    _assert_no_server_error(response, f"POST {form['action']} {field}={value[:40]!r}")
            auth.login_as("admin")  # a form may have ended the session (a password change, say)


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_log_in_never_gives_a_server_error(client, value):
    for data in ({"email": value, "password": "x"}, {"email": "admin@ridgeline.test", "password": value},
                 {"email": "admin@ridgeline.test", "password": DEMO_PASSWORD, "next": value}):
        response = client.post_form("/login", data)
        _assert_no_server_error(response, f"log-in with {data}")


# --- What a careless or hostile value does, as a user sees it ---------------------------------------

STANDARD_CODES = "/company-admin/standard-cost-codes"


def test_search_takes_percent_and_underscore_as_text(client, auth):
    auth.login_as("admin")
    for wildcard in ("_", "%", "\\"):
        page = client.get(STANDARD_CODES, query_string={"q": wildcard}).get_data(as_text=True)
        assert "1010.000" not in page, f"searching {wildcard!r} listed codes that do not contain it"
    assert "1010.000" in client.get(STANDARD_CODES, query_string={"q": "1010"}).get_data(as_text=True)


def test_search_with_a_control_character_matches_nothing(client, auth):
    auth.login_as("admin")
    response = client.get(STANDARD_CODES, query_string={"q": "1010\x00"})
    assert response.status_code == 200
    assert "1010.000" not in response.get_data(as_text=True)


def test_a_page_past_the_end_shows_the_last_page(client, auth):
    auth.login_as("admin")
    last = client.get(STANDARD_CODES, query_string={"page": str(10**20)}).get_data(as_text=True)
    assert "Page " in last and "Next ›" not in last and "‹ Previous" in last


def test_page_links_carry_only_the_lists_own_query_keys(client, auth):
    auth.login_as("admin")
    page = client.get(STANDARD_CODES, query_string={"_external": "1", "endpoint": "x", "q": "0"})
    links = [part.split('"', 1)[0] for part in page.get_data(as_text=True).split('href="')[1:]]
    page_links = [link for link in links if "page=" in link]
    assert page.status_code == 200 and page_links
    assert not [link for link in links if "_external" in link or "endpoint=" in link or "://" in link]
    assert all("q=0" in link for link in page_links)  # the search itself is carried to the next page


def test_a_form_field_with_a_control_character_is_refused_naming_it(client, auth):
    auth.login_as("admin")
    response = client.post_form("/company-admin/directory/new", {
        "name": "Nul\x00Person", "email": "nul@ridgeline.test", "password": "long enough password",
        "erp_integrations_level": "0", "company_admin_level": "0",
    })
    assert response.status_code == 400
    assert "“name” contains a control character" in response.get_data(as_text=True)
    assert "nul@ridgeline.test" not in client.get("/company-admin/directory").get_data(as_text=True)


def test_a_return_address_with_a_line_break_returns_to_the_list_after_saving(client, auth):
    auth.login_as("admin")
    codes = client.get(STANDARD_CODES).get_data(as_text=True)
    action = codes.split('action="', 2)[1].split('"', 1)[0]
    while "/archived" not in action:  # the first form on the page is the search box
        codes = codes.split(action, 1)[1]
        action = codes.split('action="', 1)[1].split('"', 1)[0]
    response = client.post_form(action, {"archived": "yes", "back": f"{STANDARD_CODES}?\nx"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(STANDARD_CODES)


def test_audit_log_refuses_a_date_at_the_end_of_time(client, auth):
    auth.login_as("admin")
    response = client.get("/company-admin/audit-log", query_string={"to": "9999-12-31"})
    assert response.status_code == 400
    assert "too far in the future" in response.get_data(as_text=True)
