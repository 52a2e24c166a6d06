"""Signing in to the portal with the company's directory, against the real slapd of conftest."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from portal import create_app
from portal.config import TestConfig
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.models import AuditEvent, CompanyTool, Level, User
from portal.services.directory_signin import directory_settings, end_sessions_of_disabled_accounts
from tests.directory.conftest import PASSWORDS, disabled_for_a_while, free_port
from tests.helpers import AuthActions, PortalClient, company_by_slug, side_paths, user_by_email


def make_app(database_url, tmp_path, config):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, **side_paths(tmp_path), **config)
    app.test_client_class = PortalClient
    return app


@pytest.fixture
def app(database_url, tmp_path, directory):
    app = make_app(database_url, tmp_path, directory.config())
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def log_in(client, name, password):
    return client.post_form("/login", {"email": name, "password": password})


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def directory_user(uid: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.directory_name == uid))


def test_a_person_the_portal_never_saw_signs_in_with_no_access(client):
    response = log_in(client, "bob", PASSWORDS["bob"])
    assert response.status_code == 302
    assert "/login" not in response.headers["Location"]
    bob = directory_user("bob")
    assert bob.company_id == company_by_slug("ridgeline").id
    assert (bob.email, bob.name) == ("bob@example.test", "Bob Builder")
    assert bob.tool_level(CompanyTool.ERP_INTEGRATIONS) == Level.NONE
    assert bob.tool_level(CompanyTool.COMPANY_ADMIN) == Level.NONE
    assert not bob.can_push_to_accounting
    [created] = [event for event in events("user.create") if event.object_id == str(bob.id)]
    assert created.details["source"] == "directory sign-in"
    # The Company Admin sees them in the Directory, to grant levels.
    client.post_form("/logout")
    admin_client = client.application.test_client()
    AuthActions(admin_client).login_as("admin")
    assert "Bob Builder" in admin_client.get("/company-admin/directory").get_data(as_text=True)


def test_the_portal_never_stores_the_directory_password(client):
    log_in(client, "bob@example.test", PASSWORDS["bob"])
    bob = directory_user("bob")
    assert bob.password_hash == ""
    stored = " ".join(str(event.details) for event in db.session.scalars(select(AuditEvent)))
    assert PASSWORDS["bob"] not in stored


def test_wrong_directory_password_is_refused_and_creates_nobody(client):
    response = log_in(client, "bob", "not-bobs-password")
    assert response.status_code == 200
    assert "Wrong e-mail or password." in response.get_data(as_text=True)
    assert directory_user("bob") is None


def test_unknown_directory_user_reads_like_a_wrong_password(client):
    response = log_in(client, "mallory", "whatever-password")
    assert "Wrong e-mail or password." in response.get_data(as_text=True)


def test_disabled_directory_account_cannot_sign_in(client):
    response = log_in(client, "carol", PASSWORDS["carol"])
    assert response.status_code == 200
    assert "Your directory account is disabled" in response.get_data(as_text=True)
    assert directory_user("carol") is None


def test_ldap_injection_on_the_log_in_page_signs_nobody_in(client):
    response = log_in(client, "*)(uid=*", PASSWORDS["alice"])
    assert response.status_code == 200
    assert "Wrong e-mail or password." in response.get_data(as_text=True)


def test_group_mapping_grants_levels_and_the_privilege_and_is_audited(client):
    log_in(client, "alice", PASSWORDS["alice"])
    alice = directory_user("alice")
    assert alice.tool_level(CompanyTool.ERP_INTEGRATIONS) == Level.STANDARD
    assert alice.can_push_to_accounting
    [mapped] = events("user.directory_groups")
    assert mapped.details["changes"] == [
        "ERP Integrations: None → Standard", "Can Push to Accounting: No → Yes",
    ]
    # Signing in again changes nothing, and writes nothing.
    client.post_form("/logout")
    log_in(client, "alice", PASSWORDS["alice"])
    assert len(events("user.directory_groups")) == 1


def test_group_mapping_is_applied_at_each_sign_in(client):
    log_in(client, "alice", PASSWORDS["alice"])
    client.post_form("/logout")
    alice = directory_user("alice")
    # Changed in the portal meanwhile: the mapped tool follows the groups again at sign-in,
    # the tool the map does not name stays as the Company Admin set it.
    alice.erp_integrations_level = Level.ADMIN
    alice.company_admin_level = Level.READ_ONLY
    db.session.commit()
    log_in(client, "alice", PASSWORDS["alice"])
    alice = directory_user("alice")
    assert alice.tool_level(CompanyTool.ERP_INTEGRATIONS) == Level.STANDARD
    assert alice.tool_level(CompanyTool.COMPANY_ADMIN) == Level.READ_ONLY
    assert events("user.directory_groups")[-1].details["changes"] == ["ERP Integrations: Admin → Standard"]


def test_leaving_the_group_takes_the_mapped_access_away(client, database_url, tmp_path, directory):
    log_in(client, "alice", PASSWORDS["alice"])
    client.post_form("/logout")
    moved = make_app(database_url, tmp_path, directory.config(
        LDAP_GROUP_MAP="Payroll Approvers=ERP Integrations:Standard,Can Push to Accounting",
    ))
    with moved.app_context():
        response = log_in(moved.test_client(), "alice", PASSWORDS["alice"])
        assert response.status_code == 302
        alice = directory_user("alice")
        assert alice.tool_level(CompanyTool.ERP_INTEGRATIONS) == Level.NONE
        assert not alice.can_push_to_accounting
        db.session.remove()


def test_rule_10_a_group_map_never_demotes_the_last_company_admin(database_url, tmp_path, directory):
    mapped = make_app(database_url, tmp_path, directory.config(
        LDAP_GROUP_MAP="IT Admins=Company Admin:Admin",
    ))
    with mapped.app_context():
        log_in(mapped.test_client(), "alice", PASSWORDS["alice"])
        # Alice became the company's only Company Admin in the portal; the directory never put
        # her in IT Admins, so the map gives her None at her next sign-in.
        alice = directory_user("alice")
        for user in db.session.scalars(select(User).where(User.company_id == alice.company_id)):
            user.company_admin_level = Level.ADMIN if user.id == alice.id else Level.READ_ONLY
        db.session.commit()
        assert log_in(mapped.test_client(), "alice", PASSWORDS["alice"]).status_code == 302
        alice = directory_user("alice")
        assert alice.tool_level(CompanyTool.COMPANY_ADMIN) == Level.ADMIN
        [kept] = events("user.directory_groups")[-1].details["changes"]
        assert "kept at Admin" in kept and "last Company Admin" in kept
        # Once someone else is a Company Admin, the map applies to her again.
        user_by_email("admin@ridgeline.test").company_admin_level = Level.ADMIN
        db.session.commit()
        log_in(mapped.test_client(), "alice", PASSWORDS["alice"])
        assert directory_user("alice").tool_level(CompanyTool.COMPANY_ADMIN) == Level.NONE
        db.session.remove()


def test_a_directory_entry_never_takes_over_a_local_account_with_a_password(client):
    before = user_by_email("admin@ridgeline.test").password_hash
    response = log_in(client, "dave", PASSWORDS["dave"])
    assert response.status_code == 200
    assert "portal account with its own password" in response.get_data(as_text=True)
    db.session.expire_all()
    admin = user_by_email("admin@ridgeline.test")
    assert admin.directory_name is None
    assert admin.password_hash == before
    # Nor does the local account's e-mail with the directory password get anyone in.
    assert log_in(client, "admin@ridgeline.test", PASSWORDS["dave"]).status_code == 200


def test_directory_down_says_so_within_the_timeout_and_local_accounts_still_log_in(
    database_url, tmp_path, directory
):
    down = make_app(database_url, tmp_path, directory.config(
        LDAP_URL=f"ldap://127.0.0.1:{free_port()}", LDAP_TIMEOUT=1,
    ))
    with down.app_context():
        client = down.test_client()
        # A log-in checks a password hash first in any case: the directory adds at most its
        # time-out to that (on a busy machine the hash alone can take a second or more).
        started = time.monotonic()
        log_in(client, "admin@ridgeline.test", "a-wrong-password")
        hash_check = time.monotonic() - started
        started = time.monotonic()
        response = log_in(client, "alice", PASSWORDS["alice"])
        assert time.monotonic() - started < hash_check + 1 + 1.5
        assert "The company directory did not answer (waited 1 seconds)" in response.get_data(as_text=True)
        # The Company Admin's portal password does not depend on the directory.
        response = log_in(client, "admin@ridgeline.test", DEMO_PASSWORD)
        assert response.status_code == 302
        assert "/login" not in response.headers["Location"]
        db.session.remove()
        db.engine.dispose()


def _signed_in_directory_user(client, uid):
    assert log_in(client, uid, PASSWORDS[uid]).status_code == 302
    assert client.get("/projects/").status_code == 200
    return directory_user(uid)


def test_a_disabled_directory_accounts_sessions_end(client, app, directory):
    _signed_in_directory_user(client, "bob")
    settings = directory_settings(app.config)
    assert end_sessions_of_disabled_accounts(db.session, settings) == []
    # IT disables bob after he signed in; the worker's sweep notices.
    with disabled_for_a_while(directory, "bob"):
        assert end_sessions_of_disabled_accounts(db.session, settings) == ["bob"]
        assert log_in(client, "bob", PASSWORDS["bob"]).status_code == 200
    response = client.get("/projects/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    [ended] = events("user.directory_disabled")
    assert ended.details["sessions"] == "ended"
    # Once: the next sweep does not end them (or write) again.
    assert end_sessions_of_disabled_accounts(db.session, settings) == []
    assert len(events("user.directory_disabled")) == 1


def test_a_deleted_directory_accounts_sessions_end_and_others_stay(client, app):
    alice = _signed_in_directory_user(client, "alice")
    other = app.test_client()
    _signed_in_directory_user(other, "bob")
    alice.directory_name = "alice-left-the-company"
    db.session.commit()
    assert end_sessions_of_disabled_accounts(db.session, directory_settings(app.config)) == [
        "alice-left-the-company"
    ]
    assert client.get("/projects/").status_code == 302
    assert other.get("/projects/").status_code == 200


def test_an_unavailable_directory_ends_nobodys_session(client, app, directory):
    _signed_in_directory_user(client, "bob")
    down = directory_settings(directory.config(LDAP_URL=f"ldap://127.0.0.1:{free_port()}", LDAP_TIMEOUT=1))
    assert end_sessions_of_disabled_accounts(db.session, down) == []
    assert client.get("/projects/").status_code == 200


def test_a_directory_user_the_company_admin_deactivated_cannot_sign_in(client):
    _signed_in_directory_user(client, "bob")
    client.post_form("/logout")
    bob = directory_user("bob")
    bob.active = False
    db.session.commit()
    response = log_in(client, "bob", PASSWORDS["bob"])
    assert response.status_code == 200
    assert "Your portal account is deactivated" in response.get_data(as_text=True)


def test_the_log_in_page_asks_for_the_directory_user_name_too_when_the_directory_is_on(client):
    page = client.get("/login").get_data(as_text=True)
    assert re.search(r'<label for="email">E-mail or directory user name</label>', page)
    # A user name is not an e-mail address: the field must not ask the browser for one.
    assert re.search(r'<input[^>]*id="email"[^>]*type="text"', page) or re.search(
        r'<input[^>]*type="text"[^>]*id="email"', page
    )
