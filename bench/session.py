"""The logged-in session every bench request carries, as a browser holds it after logging in."""

from __future__ import annotations

import time
from pathlib import Path

# Every bench request says who it is the same way (wrk sends no User-Agent of its own), so the
# session cookie can carry the identifier Flask-Login checks, as a browser's does after log-in.
USER_AGENT = "ccp-bench"


def signed_session(app, user, raw_csrf_token: str) -> str:
    """The session cookie a browser holds after logging in as `user` (with USER_AGENT): the
    user, its session on the server, Flask-Login's identifier of the browser, the log-in time and
    a CSRF secret. A page
    then leaves the session as it is, so it is not re-signed and sent back with every answer.

    Flask-Login's own login_user fills the session, in a request like the bench's requests, so
    the cookie holds what a real log-in would (without the slow password check)."""
    from flask import session
    from flask.sessions import SecureCookieSessionInterface
    from flask_login import login_user

    from portal.auth.session import SESSION_TOKEN
    from portal.extensions import db
    from portal.services.login import open_session

    with app.test_request_context(
        headers={"User-Agent": USER_AGENT}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ):
        login_user(user, fresh=True)
        payload = {
            **session,
            SESSION_TOKEN: open_session(db.session, user_id=user.id),
            "login_at": time.time(),
            "csrf_token": raw_csrf_token,
        }
    return SecureCookieSessionInterface().get_signing_serializer(app).dumps(payload)


def server_log(name: str):  # noqa: ANN201  (an open text file)
    """Where a served portal's stderr goes: bench-results/server-<name>.log.

    Never an unread pipe: the portal logs a line per request, and once a pipe's buffer is full the
    server blocks on writing its log, so it neither answers nor stops when told to.
    """
    folder = Path(__file__).resolve().parent.parent / "bench-results"
    folder.mkdir(exist_ok=True)
    return open(folder / f"server-{name}.log", "w")  # noqa: SIM115 (the server process holds it)
