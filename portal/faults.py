"""A full disk or a read-only database: a clear message, and nothing already saved is lost.

Every change is one transaction (services.transaction), so a write the disk or the database
refuses is rolled back whole; what the user needs to hear is why, and that nothing is half-done.
"""
from __future__ import annotations

import errno

from flask import Flask
from sqlalchemy.exc import DBAPIError

READ_ONLY = (
    "The portal's database is read-only just now, so this change was not saved; everything saved "
    "before is kept. Tell your administrator the reference number below."
)
DISK_FULL = (
    "The server's disk is full, so this change was not saved; everything saved before is kept. "
    "Tell your administrator the reference number below."
)
# PostgreSQL's SQLSTATEs: read_only_sql_transaction, disk_full.
_READ_ONLY_STATES = {"25006"}
_DISK_FULL_STATES = {"53100"}


def storage_fault(error: BaseException) -> str | None:
    """READ_ONLY or DISK_FULL when that is why a write failed, else None."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return DISK_FULL
    original = error.orig if isinstance(error, DBAPIError) else error
    state = getattr(original, "sqlstate", None)
    text = str(original).lower()
    if state in _READ_ONLY_STATES or "readonly database" in text or "read-only transaction" in text:
        return READ_ONLY
    if state in _DISK_FULL_STATES or "disk is full" in text or "no space left" in text:
        return DISK_FULL
    return None


def init_fault_pages(app: Flask) -> None:
    from portal.extensions import db
    from portal.logs import log_unexpected_error
    from portal.web.errors import error_response

    @app.errorhandler(DBAPIError)
    def _database_fault(error: DBAPIError):
        reference = log_unexpected_error(error)
        db.session.rollback()
        message = storage_fault(error)
        if message is None:
            return error_response(500, reference=reference)
        return error_response(503, message, reference=reference)
