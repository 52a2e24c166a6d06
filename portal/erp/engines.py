"""Database engines for the ERP connectors: one place that knows how to open an ERP database."""

from __future__ import annotations

import sqlalchemy as sa

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def erp_engine(url: str) -> sa.Engine:
    """An engine on an ERP database (the reference ERP's files, or a customer's SQL Server)."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

    # pysqlite defers BEGIN until the first write, so two exports could both read "code is
    # new" and then collide; taking the write lock at BEGIN makes each call one serial unit.
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        # As the portal's own database: WAL, and no fsync at every commit (only at checkpoints).
        dbapi_connection.execute("PRAGMA journal_mode = WAL")
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def database_error_text(error: Exception) -> str:
    """The driver's own first line, which names what failed (login, server, table)."""
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(error).__name__
