"""Talking to the directory with ldap3: who is this person, is the password theirs, which groups.

Nothing here touches the portal's database, so a slow directory never holds it up.
"""
from __future__ import annotations

import enum
import logging
import math
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from portal.services.directory_signin.settings import DirectorySettings

log = logging.getLogger(__name__)


class SignInFailure(enum.Enum):
    WRONG_PASSWORD = "wrong password"  # noqa: S105 (a kind of failure, not a password)
    UNKNOWN_USER = "unknown user"
    DISABLED = "disabled account"
    UNAVAILABLE = "directory unavailable"


@dataclass(frozen=True)
class DirectoryEntry:
    dn: str
    uid: str
    mail: str
    display_name: str
    groups: frozenset[str]  # group names (cn), lower case
    disabled: bool


class DirectoryUnavailable(Exception):
    """The directory did not answer in time, refused TLS, or refused the service account."""


def _server(settings: DirectorySettings) -> Server:
    tls = Tls(
        validate=ssl.CERT_REQUIRED,
        ca_certs_file=settings.ca_file or None,
        version=ssl.PROTOCOL_TLS_CLIENT,
    )
    return Server(
        settings.url, use_ssl=settings.uses_tls, tls=tls, get_info=NONE,
        connect_timeout=settings.timeout,
    )


def _connect(settings: DirectorySettings, user: str | None, password: str | None) -> Connection:
    """An open connection (TLS set up, not yet bound); DirectoryUnavailable when it cannot be."""
    connection = Connection(
        _server(settings), user=user, password=password, read_only=True,
        # ldap3 hands this to setsockopt as whole seconds
        receive_timeout=max(1, math.ceil(settings.timeout)), raise_exceptions=False, auto_referrals=False,
    )
    try:
        connection.open()
        if settings.uses_start_tls and not connection.start_tls():
            raise DirectoryUnavailable(f"StartTLS refused: {connection.result}")
    except LDAPException as error:
        raise DirectoryUnavailable(str(error)) from error
    return connection


@contextmanager
def _connected(settings: DirectorySettings, user: str | None, password: str | None) -> Iterator[Connection]:
    # Not ldap3's own `with connection:`, which binds on entering: the bind's answer matters here.
    connection = _connect(settings, user, password)
    try:
        yield connection
    finally:
        with suppress(LDAPException):
            connection.unbind()


def _bind(connection: Connection) -> bool:
    try:
        return bool(connection.bind())
    except LDAPException as error:
        raise DirectoryUnavailable(str(error)) from error


def _first(value) -> str:  # noqa: ANN001
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def _search(connection: Connection, base: str, search_filter: str, scope, attributes) -> list:  # noqa: ANN001
    try:
        connection.search(base, search_filter, search_scope=scope, attributes=attributes, size_limit=2)
    except LDAPException as error:
        raise DirectoryUnavailable(str(error)) from error
    if connection.result.get("result") not in (0, 4):  # success, size limit exceeded
        raise DirectoryUnavailable(f"search refused: {connection.result.get('description')}")
    return [entry for entry in connection.response or [] if entry.get("type") == "searchResEntry"]


def _find_user(connection: Connection, settings: DirectorySettings, name: str) -> dict | None:
    # The name is escaped for a filter: `*)(uid=*` looks for a person literally called that.
    search_filter = settings.user_filter.replace("{name}", escape_filter_chars(name))
    found = _search(connection, settings.base_dn, search_filter, SUBTREE, ["*"])
    return found[0] if len(found) == 1 else None  # two people answering to one name: nobody


def _entry(connection: Connection, settings: DirectorySettings, found: dict) -> DirectoryEntry:
    attributes = found["attributes"]
    dn = found["dn"]
    disabled = False
    if settings.disabled_filter:
        disabled = bool(_search(connection, dn, settings.disabled_filter, BASE, []))
    groups = _search_groups(connection, settings, dn)
    uid = _first(attributes.get(settings.uid_attribute))
    return DirectoryEntry(
        dn=dn,
        uid=uid,
        mail=_first(attributes.get("mail")).strip().lower(),
        display_name=_first(attributes.get("displayName")) or _first(attributes.get("cn")) or uid,
        groups=groups,
        disabled=disabled,
    )


def _search_groups(connection: Connection, settings: DirectorySettings, dn: str) -> frozenset[str]:
    base = settings.group_base_dn or settings.base_dn
    try:
        connection.search(
            base, f"(member={escape_filter_chars(dn)})", search_scope=SUBTREE, attributes=["cn"],
        )
    except LDAPException as error:
        raise DirectoryUnavailable(str(error)) from error
    return frozenset(
        _first(entry["attributes"].get("cn")).lower()
        for entry in connection.response or []
        if entry.get("type") == "searchResEntry"
    )


def authenticate(settings: DirectorySettings, name: str, password: str) -> DirectoryEntry | SignInFailure:
    """The person's directory entry if `password` is theirs, or why not.

    With a service account (LDAP_BIND_DN) the person is searched for, then bound as; with a DN
    template they are bound as directly and read their own entry. A disabled account is only
    reported after its password proved right, so guessing never learns who is disabled.
    """
    name = name.strip()
    # An empty password is an "unauthenticated bind", which LDAP servers accept for anyone.
    if not name or not password:
        return SignInFailure.WRONG_PASSWORD
    try:
        if settings.dn_template:
            user_dn = settings.dn_template.replace("{name}", escape_rdn(name))
            with _connected(settings, user_dn, password) as connection:
                if not _bind(connection):
                    return SignInFailure.WRONG_PASSWORD
                found = _find_user(connection, settings, name)
                if found is None:
                    return SignInFailure.UNKNOWN_USER
                entry = _entry(connection, settings, found)
        else:
            with _connected(settings, settings.bind_dn or None, settings.bind_password or None) as service:
                if not _bind(service):
                    raise DirectoryUnavailable(f"the service account was refused: {service.result}")
                found = _find_user(service, settings, name)
                if found is None:
                    return SignInFailure.UNKNOWN_USER
                with _connected(settings, found["dn"], password) as person:
                    if not _bind(person):
                        return SignInFailure.WRONG_PASSWORD
                entry = _entry(service, settings, found)
    except DirectoryUnavailable as error:
        log.warning("Directory sign-in: the directory at %s is unavailable: %s", settings.url, error)
        return SignInFailure.UNAVAILABLE
    if entry.disabled:
        return SignInFailure.DISABLED
    return entry


def look_up(settings: DirectorySettings, uids: list[str]) -> dict[str, DirectoryEntry | None]:
    """Each person's entry by their directory name, through the service account on one
    connection; None for a name the directory no longer has. DirectoryUnavailable when it
    cannot tell."""
    found: dict[str, DirectoryEntry | None] = {}
    with _connected(settings, settings.bind_dn or None, settings.bind_password or None) as service:
        if not _bind(service):
            raise DirectoryUnavailable(f"the service account was refused: {service.result}")
        for uid in uids:
            entry = _find_user(service, settings, uid)
            found[uid] = None if entry is None else _entry(service, settings, entry)
    return found
