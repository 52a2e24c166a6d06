"""Directory sign-in's conversation with a real OpenLDAP server: who a person is, or why not."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from portal.services.directory_signin import (
    DirectoryEntry,
    DirectorySettingsError,
    SignInFailure,
    authenticate,
    directory_settings,
)
from tests.directory.conftest import PASSWORDS, SUFFIX, _certificates, free_port


def settings(directory, **overrides):
    return directory_settings(directory.config(**overrides))


def test_right_password_gives_the_directory_entry_with_groups(directory):
    entry = authenticate(settings(directory), "alice", PASSWORDS["alice"])
    assert isinstance(entry, DirectoryEntry)
    assert entry.uid == "alice"
    assert entry.mail == "alice@example.test"
    assert entry.display_name == "Alice Approver"
    assert entry.groups == {"accounting approvers"}
    assert not entry.disabled


def test_a_person_signs_in_with_their_e_mail_too(directory):
    entry = authenticate(settings(directory), "Bob@Example.test", PASSWORDS["bob"])
    assert isinstance(entry, DirectoryEntry)
    assert entry.uid == "bob"


def test_wrong_password(directory):
    assert authenticate(settings(directory), "alice", "not-her-password") is SignInFailure.WRONG_PASSWORD


def test_an_empty_password_is_wrong_not_an_anonymous_bind(directory):
    assert authenticate(settings(directory), "alice", "") is SignInFailure.WRONG_PASSWORD


def test_unknown_user(directory):
    assert authenticate(settings(directory), "mallory", "whatever-pw") is SignInFailure.UNKNOWN_USER


def test_disabled_account_with_its_right_password_is_refused(directory):
    assert authenticate(settings(directory), "carol", PASSWORDS["carol"]) is SignInFailure.DISABLED


def test_a_disabled_account_with_a_wrong_password_is_only_a_wrong_password(directory):
    # Guessing never tells anyone which accounts are disabled.
    assert authenticate(settings(directory), "carol", "guess") is SignInFailure.WRONG_PASSWORD


@pytest.mark.parametrize("name", ["*)(uid=*", "*", "alice)(|(uid=*", "al*", "*)(|(objectClass=*"])
def test_ldap_injection_in_the_user_name_finds_nobody(directory, name):
    # Unescaped, `*)(uid=*` would match every person and sign in as whichever came first.
    assert authenticate(settings(directory), name, PASSWORDS["alice"]) is SignInFailure.UNKNOWN_USER


def test_dn_template_binds_as_the_person_directly(directory):
    config = settings(
        directory, LDAP_BIND_DN="", LDAP_BIND_PASSWORD="",
        LDAP_DN_TEMPLATE=f"uid={{name}},ou=people,{SUFFIX}",
        LDAP_USER_FILTER="(uid={name})",
    )
    entry = authenticate(config, "alice", PASSWORDS["alice"])
    assert isinstance(entry, DirectoryEntry)
    assert entry.groups == {"accounting approvers"}
    assert authenticate(config, "alice", "wrong") is SignInFailure.WRONG_PASSWORD
    # The name is escaped for the DN as well: this is no way into another entry.
    assert authenticate(config, "alice,ou=people", PASSWORDS["alice"]) is SignInFailure.WRONG_PASSWORD


def test_ldaps_with_the_configured_ca(directory):
    entry = authenticate(settings(directory, LDAP_URL=directory.ldaps_url), "alice", PASSWORDS["alice"])
    assert isinstance(entry, DirectoryEntry)


def test_start_tls_refuses_a_server_certificate_the_ca_did_not_sign(directory, tmp_path):
    # Only a TLS handshake checks the certificate: this fails because StartTLS really happened.
    _certificates(tmp_path)  # another CA
    config = settings(directory, LDAP_CA_FILE=str(tmp_path / "ca.pem"))
    assert authenticate(config, "alice", PASSWORDS["alice"]) is SignInFailure.UNAVAILABLE


def test_plain_ldap_only_when_explicitly_allowed(directory):
    assert settings(directory).uses_start_tls
    plain = settings(directory, LDAP_ALLOW_PLAIN=True)
    assert not plain.uses_start_tls
    assert isinstance(authenticate(plain, "alice", PASSWORDS["alice"]), DirectoryEntry)


def test_directory_down_answers_within_the_timeout(directory):
    config = settings(directory, LDAP_URL=f"ldap://127.0.0.1:{free_port()}", LDAP_TIMEOUT=1)
    started = time.monotonic()
    assert authenticate(config, "alice", PASSWORDS["alice"]) is SignInFailure.UNAVAILABLE
    assert time.monotonic() - started < 2


def test_a_directory_that_accepts_but_never_answers_times_out(directory):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        config = settings(directory, LDAP_URL=f"ldap://127.0.0.1:{port}", LDAP_TIMEOUT=1)
        started = time.monotonic()
        assert authenticate(config, "alice", PASSWORDS["alice"]) is SignInFailure.UNAVAILABLE
        assert time.monotonic() - started < 3
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


def test_a_wrong_service_account_password_is_an_unavailable_directory(directory):
    config = settings(directory, LDAP_BIND_PASSWORD="not-it")
    assert authenticate(config, "alice", PASSWORDS["alice"]) is SignInFailure.UNAVAILABLE


@pytest.mark.parametrize(("setting", "value", "named"), [
    ("LDAP_URL", "http://dir.example", "LDAP_URL"),
    ("LDAP_GROUP_MAP", "Approvers=Payroll:Admin", "LDAP_GROUP_MAP"),
    ("LDAP_GROUP_MAP", "Approvers=ERP Integrations:Boss", "LDAP_GROUP_MAP"),
    ("LDAP_COMPANY", "", "LDAP_COMPANY"),
])
def test_bad_settings_are_refused_naming_the_setting(directory, setting, value, named):
    with pytest.raises(DirectorySettingsError, match=named):
        settings(directory, **{setting: value})
