"""Domain operations. They know nothing of Flask requests: views, tasks and the CLI call them alike.

Each public operation is one transaction: it commits on success and rolls back on any error,
so a failure never leaves half of a change stored.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import select
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


Row = TypeVar("Row")


def lock_company_row(session: Session, model: type[Row], row_id: int, *, company_id: int,
                     not_found: str) -> Row:
    """The row `row_id` of `model`, locked for the rest of the transaction and read afresh; a row
    of another company is NotFound(not_found), exactly as one that does not exist.

    FOR UPDATE makes concurrent changes of the row queue on it in PostgreSQL; SQLite already
    holds the database's write lock since BEGIN IMMEDIATE. populate_existing re-reads a row the
    session may have loaded before the lock.
    """
    row = session.scalar(
        select(model).where(model.id == row_id).with_for_update().execution_options(populate_existing=True)
    )
    if row is None or row.company_id != company_id:
        raise NotFound(not_found)
    return row
