"""Logging in and out, the failure limit, redirects and session endings."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent
from tests.helpers import user_by_email


def test_login_with_right_password_opens_the_portal(client, auth):
    response = auth.login("approver@ridgeline.test")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert b"Ridgeline Builders" in page.data
    assert b"Accounting Approver" in page.data


def test_wrong_password_says_so_without_telling_whether_the_email_exists(client, auth):
    wrong_password = auth.login("approver@ridgeline.test", password="not-the-password")
    unknown_email = auth.login("nobody@ridgeline.test", password="not-the-password")
    assert wrong_password.status_code == unknown_email.status_code == 200
    assert b"Wrong e-mail or password." in wrong_password.data
    assert b"Wrong e-mail or password." in unknown_email.data


def test_login_is_refused_after_ten_failures_for_one_account(client, auth):
    for _ in range(10):
        assert auth.login("viewer@ridgeline.test", password="wrong-password").status_code == 200
    refused = auth.login("viewer@ridgeline.test")  # even the right password
    assert refused.status_code == 429
    assert b"Too many failed log-in attempts" in refused.data
    # Another account is not locked by someone guessing at this one.
    assert auth.login("approver@ridgeline.test").status_code == 302


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/projects/", "/projects/"),
        ("https://evil.example/", "/erp-integrations/jobs"),
        ("//evil.example/", "/erp-integrations/jobs"),
        ("/\\evil.example", "/erp-integrations/jobs"),
        ("/\nx", "/erp-integrations/jobs"),  # a control character would break the redirect
        ("/projects/\x7f", "/erp-integrations/jobs"),
        ("/projects/?page=2", "/projects/?page=2"),
    ],
)
def test_next_only_redirects_on_site(auth, next_url, lands_on):
    response = auth.login("approver@ridgeline.test", next_url=next_url)
    assert response.headers["Location"] == lands_on


def test_logout_is_a_post_and_ends_the_session(client, auth):
    auth.login_as("viewer")
    assert client.get("/logout").status_code == 405
    assert client.get("/projects/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/projects/").status_code == 302


def test_anonymous_htmx_request_is_sent_to_login_page(client):
    response = client.htmx_get("/projects/")
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_session_ends_after_twelve_hours(client, auth):
    auth.login_as("viewer")
    with client.session_transaction() as session:
        session["login_at"] -= 12 * 3600 + 1
    response = client.get("/projects/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_deactivating_a_user_ends_sessions_already_open(client, auth):
    user = auth.login_as("viewer")
    assert client.get("/projects/").status_code == 200
    user.active = False
    user.session_version += 1
    db.session.commit()
    assert client.get("/projects/").status_code == 302


def test_login_writes_an_audit_event(auth):
    auth.login("viewer@ridgeline.test")
    user = user_by_email("viewer@ridgeline.test")
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.login", AuditEvent.actor_id == user.id)
    )


def test_a_control_character_in_the_email_is_refused_naming_the_field_not_an_error(auth):
    response = auth.login("viewer\x00@ridgeline.test")
    assert response.status_code == 400
    assert "“email” contains a control character" in response.get_data(as_text=True)


def test_without_a_directory_the_log_in_page_asks_for_an_e_mail(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<label for="email">E-mail</label>' in page
    assert re.search(r'<input[^>]*type="email"', page)
