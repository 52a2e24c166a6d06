"""Sign-in by a trusted reverse proxy's header, with the person looked up in the real slapd."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, CompanyTool, Level, User
from tests.directory.test_directory_sign_in import make_app

PROXY = "10.0.0.5"
HEADER = "X-Remote-User"


@pytest.fixture
def app(database_url, tmp_path, directory):
    app = make_app(database_url, tmp_path, directory.config(
        REMOTE_USER_HEADER=HEADER, REMOTE_USER_PROXIES=f"{PROXY}, 192.168.10.0/24",
    ))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def get(client, name, address=PROXY):
    return client.get("/projects/", headers={HEADER: name}, environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("name", ["alice", "CORP\\alice", "alice@CORP.EXAMPLE"])
def test_the_trusted_proxy_signs_the_person_in(client, name):
    response = get(client, name)
    assert response.status_code == 200
    alice = db.session.scalar(select(User).where(User.directory_name == "alice"))
    # The same user, levels and groups as a sign-in with the password.
    assert alice.tool_level(CompanyTool.ERP_INTEGRATIONS) == Level.STANDARD
    login = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.login"))
    assert login.details == {"signed in by": "trusted proxy"}
    # The session carries on without the header.
    assert client.get("/projects/", environ_base={"REMOTE_ADDR": PROXY}).status_code == 200


def test_a_proxy_in_a_trusted_network_is_believed(client):
    assert get(client, "bob", address="192.168.10.77").status_code == 200


def test_the_header_from_anywhere_else_is_ignored(client):
    response = get(client, "alice", address="10.0.0.6")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert db.session.scalar(select(User).where(User.directory_name == "alice")) is None


@pytest.mark.parametrize("name", ["mallory", "carol", "*)(uid=*"])
def test_unknown_or_disabled_people_named_by_the_proxy_are_not_signed_in(client, name):
    assert get(client, name).status_code == 302


def test_the_header_needs_the_proxies_named(database_url, tmp_path, directory):
    with pytest.raises(ValueError, match="REMOTE_USER_PROXIES"):
        make_app(database_url, tmp_path, directory.config(REMOTE_USER_HEADER=HEADER))
