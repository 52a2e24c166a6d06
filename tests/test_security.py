"""The security baseline every response and account shares."""
from __future__ import annotations

import os
import stat

import pytest

from portal import create_app
from portal.config import Config, TestConfig, instance_secret_key
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.passwords import password_matches
from tests.helpers import PortalClient, side_paths, user_by_email
from tests.route_table import URL_ARGUMENTS
from tests.test_route_sweep import TABLE, _url


def test_every_response_carries_the_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-eval" not in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_samesite_lax(client, auth):
    response = auth.login("viewer@ridgeline.test")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_passwords_are_hashed_with_scrypt_n_at_least_2_17(app, client, auth, monkeypatch):
    # The portal's own setting, not the test configuration's cheap one.
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", Config.PASSWORD_HASH_METHOD)
    auth.login_as("admin")
    response = client.post_form("/company-admin/directory/new", {
        "name": "Field Engineer", "email": "engineer@ridgeline.test", "password": "long-enough-1",
        "erp_integrations_level": "0", "company_admin_level": "0",
    })
    assert response.status_code == 302
    method, _salt, _hash = user_by_email("engineer@ridgeline.test").password_hash.split("$")
    name, n, r, p = method.split(":")
    assert name == "scrypt" and int(n) >= 2**17
    assert password_matches(user_by_email("engineer@ridgeline.test").password_hash, "long-enough-1")


def test_secret_key_is_generated_and_kept_private(tmp_path):
    key = instance_secret_key(tmp_path)
    assert len(key) >= 40 and instance_secret_key(tmp_path) == key
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_unknown_page_is_a_404_page_without_a_stack_trace(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"does not exist" in response.data and b"Traceback" not in response.data


def test_htmx_is_served_from_static_vendor_and_configured(client, auth):
    auth.login_as("viewer")
    page = client.get("/projects/").data.decode()
    assert "/static/vendor/htmx-2.0.11.min.js" in page
    assert '"allowEval": false' in page and '"historyCacheSize": 0' in page
    assert '"includeIndicatorStyles": false' in page
    assert "X-CSRFToken" in page
    assert client.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200


def test_a_page_view_does_not_rewrite_the_session_cookie(client, auth):
    # The session changes at log-in (and its first page, which adds the CSRF secret), not with
    # every page: no Set-Cookie, so no re-signing per request, and the cookie's lifetime stays
    # counted from the log-in.
    login = auth.login("approver@ridgeline.test")
    assert "Set-Cookie" in login.headers
    for _ in range(2):
        page = client.get("/erp-integrations/jobs")
        assert page.status_code == 200
        assert "Set-Cookie" not in page.headers


@pytest.fixture
def app_with(database_url, tmp_path):
    """Another app on the test's database, with settings changed."""
    made = []

    def make(**settings):
        settings = {**side_paths(tmp_path), **settings}
        app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, **settings)
        app.test_client_class = PortalClient
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def _get_pages(app) -> list[str]:
    """Every page the route table lists as a GET, with the Ridgeline objects' ids."""
    return [
        _url(app, endpoint, route, URL_ARGUMENTS)
        for endpoint, route in TABLE.items()
        if route.method == "GET"
    ]


def test_every_page_carries_frame_ancestors_no_store_and_the_permissions_policy(app, client, auth):
    auth.login_as("admin")
    pages = _get_pages(app) + ["/no-such-page"]
    assert len(pages) > 15
    for url in pages:
        response = client.get(url)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url
        assert response.headers["X-Frame-Options"] == "DENY", url
        policy = response.headers["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
            assert feature in policy, (url, feature)
        if not url.startswith("/static/"):
            assert response.headers["Cache-Control"] == "no-store", url
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP is allowed here


def test_with_secure_cookies_every_page_sends_hsts_and_the_cookie_is_host_only(app_with):
    app = app_with(SESSION_COOKIE_SECURE=True)
    with app.app_context():
        client = app.test_client()
        client.environ_base["wsgi.url_scheme"] = "https"
        login = client.post_form(
            "/login", {"email": "admin@ridgeline.test", "password": DEMO_PASSWORD},
            base_url="https://portal.example",
        )
        cookie = login.headers["Set-Cookie"]
        assert cookie.startswith("__Host-session=") and "Secure" in cookie and "Path=/" in cookie
        assert "Domain=" not in cookie
        for url in _get_pages(app) + ["/login", "/no-such-page"]:
            response = client.get(url, base_url="https://portal.example")
            # /healthz answers 503 while the test database is not stamped at the newest migration.
            assert response.status_code in (200, 302, 404, 503), url
            assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000"), url
        db.session.remove()


def test_csp_allows_exactly_the_cdn_origin_and_hash_only_when_htmx_comes_from_the_cdn(app, client, app_with):
    own = client.get("/login").headers["Content-Security-Policy"]
    assert "script-src 'self';" in own and "jsdelivr" not in own
    cdn_app = app_with(HTMX_FROM_CDN=True)
    with cdn_app.app_context():
        response = cdn_app.test_client().get("/login")
        csp = response.headers["Content-Security-Policy"]
        db.session.remove()
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src "))
    assert script_src.split() == [
        "script-src", "'self'", "https://cdn.jsdelivr.net", f"'{TestConfig.HTMX_CDN_INTEGRITY}'",
    ]
    assert f'src="{TestConfig.HTMX_CDN_URL}"' in response.data.decode()
    assert f'integrity="{TestConfig.HTMX_CDN_INTEGRITY}"' in response.data.decode()
