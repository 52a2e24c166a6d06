"""Domain operations. They know nothing of Flask requests: views, tasks and the CLI call them alike.

Each public operation is one transaction: it commits on success and rolls back on any error,
so a failure never leaves half of a change stored.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from portal.db.engine import begin_writing


class ServiceError(Exception):
    """A refusal or bad input the user can act on; the message is shown as it is."""


class NotFound(ServiceError):
    """The object does not exist, or belongs to another company (which must look the same)."""


class PermissionDenied(ServiceError):
    """The user may not do this; the message says what is missing."""


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    try:
        begin_writing(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
