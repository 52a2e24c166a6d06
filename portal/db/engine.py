"""Engine settings that make SQLite safe for several threads and processes writing at once."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

# Execution option (and connection info key): this transaction holds SQLite's write lock.
WRITE_LOCK = "sqlite_write_lock"


def configure_engine(engine: Engine, reads_only: Callable[[], bool] = lambda: False) -> None:
    """`reads_only()` says whether transactions begun now only read unless they ask to write."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own BEGIN handling is off).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # noqa: ANN001
        # IMMEDIATE takes the write lock up front: a deferred transaction that later writes
        # fails with "database is locked" at once instead of waiting its busy timeout. Reads
        # (a page being shown) begin deferred, so they neither wait for nor block each other;
        # a write among them goes through begin_writing() first.
        immediate = connection.get_execution_options().get(WRITE_LOCK, not reads_only())
        connection.info[WRITE_LOCK] = immediate
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_writing(session: Session) -> None:
    """Make the session's transaction one that may write (on SQLite: holding the write lock).

    A deferred read transaction cannot safely take the lock later (its snapshot may be older
    than another writer's commit), so it is ended first; what it loaded reloads when used.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        if session.connection().info.get(WRITE_LOCK):
            return
        session.commit()
    session.connection(execution_options={WRITE_LOCK: True})


def begin_reading(session: Session) -> None:
    """Start a transaction that only reads, even inside a POST (on SQLite: without the write lock).

    For work that must not hold the lock while it waits on something slow, such as a log-in
    checking a password: the read ends (commit) before the slow part, and any write after it
    goes through begin_writing() in a short transaction of its own.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={WRITE_LOCK: False})
