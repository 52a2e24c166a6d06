"""Logging in and out, with sessions kept on the server.

A password check is slow on purpose (scrypt), so it never runs inside a write transaction: the
user is read in a read-only transaction that ends before the check, and the log-in is recorded
afterwards in a short transaction of its own. Failed attempts are counted by the throttle
(portal/auth/throttle.py) in the rate limiter's store, not in the database.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.db.engine import begin_reading
from portal.models import LoginSession, User, utcnow
from portal.passwords import password_matches
from portal.services import transaction
from portal.services.audit import record_event

# Checked against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password.
_NO_SUCH_USER_HASH = (
    "scrypt:131072:8:1$0000000000000000$"
    "b0b3f2b2d6f0f3f6e5c4ab0a1f3e2d1c0b9a8f7e6d5c4b3a2918f7e6d5c4b3a2"
    "918f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a29180"
)


@dataclass(frozen=True)
class LoggedIn:
    user: User
    # Goes into the session cookie; only its hash is stored (login_sessions.token_hash).
    session_token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_credentials(session: Session, *, email: str, password: str) -> int | None:
    """The id of the active user with this e-mail and password, else None.

    Holds no transaction while the password is checked: on SQLite a write transaction would
    hold the database's write lock for the whole (deliberately slow) check.
    """
    email = email.strip().lower()
    row = None
    # No stored e-mail has a control character, and PostgreSQL refuses a NUL in a query.
    if not any(ord(character) < 32 or ord(character) == 127 for character in email):
        begin_reading(session)
        row = session.execute(
            select(User.id, User.password_hash, User.active).where(func.lower(User.email) == email)
        ).first()
        session.commit()  # ends the read before the slow part
    matches = password_matches(row.password_hash if row else _NO_SUCH_USER_HASH, password)
    if row is None or not matches or not row.active:
        return None
    return row.id


def open_session(session: Session, *, user_id: int) -> str:
    """A new server-side session for the user; returns the token the cookie carries."""
    token = secrets.token_urlsafe(32)
    with transaction(session):
        session.add(LoginSession(user_id=user_id, token_hash=token_hash(token)))
    return token


def log_in(session: Session, *, email: str, password: str, lifetime: timedelta) -> LoggedIn | None:
    """Check the password, then start a session and record the log-in; None when refused."""
    user_id = check_credentials(session, email=email, password=password)
    if user_id is None:
        return None
    return start_session(session, user_id=user_id, lifetime=lifetime)


def start_session(
    session: Session, *, user_id: int, lifetime: timedelta, signed_in_by: str | None = None
) -> LoggedIn:
    """The log-in itself, once the person is known (by password, by the company directory, or by
    a trusted proxy's Windows sign-in: `signed_in_by` says so in the audit event)."""
    token = secrets.token_urlsafe(32)
    with transaction(session):
        # Sessions past their lifetime can no longer be used; forget them while we are here.
        session.execute(delete(LoginSession).where(LoginSession.started_at < utcnow() - lifetime))
        session.add(LoginSession(user_id=user_id, token_hash=token_hash(token)))
        user = session.get(User, user_id)
        record_event(
            session, company_id=user.company_id, actor=user, action="user.login",
            object_type="user", object_id=user.id, object_label=user.email,
            details={"signed in by": signed_in_by} if signed_in_by else None,
        )
    return LoggedIn(user=user, session_token=token)


def log_out(session: Session, *, user: User, session_token: str | None) -> None:
    """End this session on the server: its cookie, even a copy of it, opens nothing any more."""
    with transaction(session):
        if session_token:
            session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(session_token)))
        record_event(
            session, company_id=user.company_id, actor=user, action="user.logout",
            object_type="user", object_id=user.id, object_label=user.email,
        )


def end_other_sessions(session: Session, *, user_id: int, keep_token: str | None) -> None:
    """Part of the caller's transaction: every session of the user but the one in `keep_token`."""
    statement = delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep_token:
        statement = statement.where(LoginSession.token_hash != token_hash(keep_token))
    session.execute(statement)
