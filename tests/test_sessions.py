"""Sessions end on the server: at log-out, at a password change, at an admin's Reset password."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.models import AuditEvent
from tests.helpers import AuthActions, user_by_email

NEW_PASSWORD = "a-new-password-1"  # noqa: S105 (a test's password)


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _lands_on_login(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_cookie_copied_before_log_out_opens_nothing_afterwards(client, auth):
    assert auth.login("approver@ridgeline.test").status_code == 302
    copied = client.get_cookie("session").value
    assert client.get("/erp-integrations/jobs").status_code == 200
    assert auth.logout().status_code == 302
    client.set_cookie("session", copied)
    assert _lands_on_login(client.get("/erp-integrations/jobs"))


def test_changing_ones_password_ends_every_other_session(app, client, auth):
    other_browser = app.test_client()
    AuthActions(other_browser).login_as("viewer")
    auth.login_as("viewer")
    response = client.post_form("/account/password", {
        "current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
    }, follow_redirects=True)
    assert b"Your password has been changed" in response.data
    assert client.get("/projects/").status_code == 200  # this session goes on
    assert _lands_on_login(other_browser.get("/projects/"))
    [event] = _events("user.change_password")
    assert event.actor_id == user_by_email("viewer@ridgeline.test").id
    auth.logout()
    assert auth.login("viewer@ridgeline.test").status_code == 200  # the old password: refused
    assert auth.login("viewer@ridgeline.test", NEW_PASSWORD).status_code == 302


def test_a_password_change_needs_the_current_password_and_the_minimum_length(client, auth):
    auth.login_as("viewer")
    wrong_current = client.post_form("/account/password", {
        "current_password": "not-it", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
    })
    assert wrong_current.status_code == 422 and b"The current password is wrong" in wrong_current.data
    short = client.post_form("/account/password", {
        "current_password": DEMO_PASSWORD, "new_password": "short", "confirm_password": "short",
    })
    assert short.status_code == 422 and b"at least 8 characters" in short.data
    assert _events("user.change_password") == []


def test_the_account_page_is_linked_from_every_page_as_account(client, auth):
    auth.login_as("pm")
    page = client.get("/projects/").data.decode()
    assert '<a href="/account"' in page and ">Account</a>" in page
    assert b"Change password" in client.get("/account").data


def test_reset_password_shows_a_temporary_password_once_and_the_user_must_choose_a_new_one(app, client, auth):
    viewer = user_by_email("viewer@ridgeline.test")
    viewers_browser = app.test_client()
    viewer_auth = AuthActions(viewers_browser)
    viewer_auth.login_as("viewer")
    auth.login_as("admin")
    user_page = client.get(f"/company-admin/directory/{viewer.id}").data
    assert b"Reset password" in user_page
    response = client.post_form(f"/company-admin/directory/{viewer.id}/password-reset")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    temporary = re.search(rb'class="temporary-password">([^<]+)<', response.data).group(1).decode()
    assert len(temporary) >= 12
    assert temporary.encode() not in client.get(f"/company-admin/directory/{viewer.id}").data
    [event] = _events("user.reset_password")
    assert event.object_id == str(viewer.id)
    # The viewer's open session has ended; the temporary password only opens the Account page.
    assert _lands_on_login(viewers_browser.get("/projects/"))
    logged_in = viewer_auth.login("viewer@ridgeline.test", temporary)
    assert logged_in.headers["Location"] == "/account"
    assert viewers_browser.get("/projects/").headers["Location"] == "/account"
    viewers_browser.post_form("/account/password", {
        "current_password": temporary, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
    })
    assert viewers_browser.get("/projects/").status_code == 200


def test_an_admin_cannot_reset_their_own_password_or_a_foreign_users(client, auth):
    admin = auth.login_as("admin")
    own = client.post_form(f"/company-admin/directory/{admin.id}/password-reset", follow_redirects=True)
    assert b"change it on your Account page" in own.data
    foreign = user_by_email("viewer@harborpoint.test")
    assert client.post_form(f"/company-admin/directory/{foreign.id}/password-reset").status_code == 404
    assert _events("user.reset_password") == []


def test_a_directory_users_password_cannot_be_reset_in_the_portal(client, auth):
    viewer = user_by_email("viewer@ridgeline.test")
    viewer.directory_name = "vera"
    db.session.commit()
    password_hash = viewer.password_hash
    auth.login_as("admin")
    page = client.get(f"/company-admin/directory/{viewer.id}").data.decode()
    assert re.search(r"<button[^>]*disabled[^>]*>Reset password</button>", page)
    assert "signs in with the company directory as vera" in page
    refused = client.post_form(f"/company-admin/directory/{viewer.id}/password-reset", follow_redirects=True)
    assert b"their password is changed in the directory, not in the portal" in refused.data
    db.session.expire_all()
    assert user_by_email("viewer@ridgeline.test").password_hash == password_hash
    assert _events("user.reset_password") == []
