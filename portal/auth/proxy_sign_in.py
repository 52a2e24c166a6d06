"""Sign-in by a trusted reverse proxy's header (issue 17, optional).

Behind IIS or Apache that already did Windows sign-in (Kerberos / NTLM), the proxy names the
person in a header (REMOTE_USER_HEADER, e.g. X-Remote-User). The header is believed only from
the proxies' own addresses (REMOTE_USER_PROXIES): from anywhere else anyone could send it. The
person is looked up in the directory with the service account, so they get the same portal
user, levels and groups as with their password.

The address checked is the TCP peer's, before any ProxyFix rewrote it to the client's.
"""
from __future__ import annotations

import ipaddress
import logging
import time

from flask import Flask, current_app, request, session
from flask_login import current_user, login_user

from portal.auth.directory_login import configured_directory
from portal.auth.session import SESSION_TOKEN
from portal.extensions import db
from portal.services import login as login_service
from portal.services.directory_signin import sign_in_from_proxy

log = logging.getLogger(__name__)
EXTENSION = "proxy_sign_in"


def init_proxy_sign_in(app: Flask) -> None:
    header = (app.config.get("REMOTE_USER_HEADER") or "").strip()
    if not header:
        return
    raw = [part.strip() for part in (app.config.get("REMOTE_USER_PROXIES") or "").split(",")]
    raw = [part for part in raw if part]
    if not raw:
        raise ValueError(
            "REMOTE_USER_PROXIES: name the addresses of the reverse proxies that may set REMOTE_USER_HEADER."
        )
    try:
        proxies = [ipaddress.ip_network(part, strict=False) for part in raw]
    except ValueError as error:
        raise ValueError(f"REMOTE_USER_PROXIES: {error}.")
    directory = app.extensions.get("directory_sign_in")
    if directory is None or not directory.can_search:
        raise ValueError("REMOTE_USER_HEADER needs directory sign-in with a service account (LDAP_BIND_DN).")
    app.extensions[EXTENSION] = (header, proxies)
    app.before_request(_sign_in_from_proxy_header)


def _peer_address() -> str:
    original = request.environ.get("werkzeug.proxy_fix.orig") or {}
    return original.get("REMOTE_ADDR") or request.environ.get("REMOTE_ADDR") or ""


def _from_trusted_proxy(proxies) -> bool:  # noqa: ANN001
    try:
        peer = ipaddress.ip_address(_peer_address())
    except ValueError:
        return False
    return any(peer in network for network in proxies)


def _sign_in_from_proxy_header() -> None:
    if current_user.is_authenticated or request.endpoint == "static":
        return
    header, proxies = current_app.extensions[EXTENSION]
    name = request.headers.get(header, "")
    if not name:
        return
    if not _from_trusted_proxy(proxies):
        log.warning("%s from %s, which is not a trusted proxy: ignored", header, _peer_address())
        return
    signed_in = sign_in_from_proxy(db.session, configured_directory(), name)
    if signed_in.user is None:
        log.info("%s named %r, who cannot sign in: %s", header, name, signed_in.refusal)
        return
    logged_in = login_service.start_session(
        db.session, user_id=signed_in.user.id, lifetime=current_app.config["SESSION_LIFETIME"],
        signed_in_by="trusted proxy",
    )
    session.clear()
    login_user(logged_in.user)
    session.permanent = True
    session["login_at"] = time.time()
    session[SESSION_TOKEN] = logged_in.session_token
