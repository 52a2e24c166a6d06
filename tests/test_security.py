"""The security baseline every response and account shares."""
from __future__ import annotations

import os
import stat

from portal.config import Config, instance_secret_key
from portal.passwords import password_matches
from tests.helpers import user_by_email


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
