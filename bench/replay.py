"""The export's floor: the very statements the portal sent, sent again from raw SQL.

While the portal exports, every statement it sends to its own database and to the ERP is
recorded with its parameters, and so is every commit. The floor sends them again, in the same
order and transactions, through raw sqlite3 / psycopg on copies of both databases taken before
the export (on PostgreSQL, on the portal's own database after it: the updates set the same
values again and the transactions commit). Reading the outbox, the ERP's look-ups and
inserts with its keys on, marking lines and assignments, closing requests, audit events: the
same work with none of our Python around it.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

COMMIT = object()
ROLLBACK = object()


@contextmanager
def recording(urls: dict[str, str]):
    """Record statements sent to the engines whose URL is a key of `urls` (named by its value)."""
    steps: list[tuple[str, object, object, bool]] = []

    def before(connection, _cursor, statement, parameters, _context, executemany) -> None:
        name = urls.get(str(connection.engine.url))
        if name:
            steps.append((name, statement, parameters, executemany))

    def commit(connection) -> None:
        name = urls.get(str(connection.engine.url))
        if name:
            steps.append((name, COMMIT, None, False))

    def rollback(connection) -> None:
        name = urls.get(str(connection.engine.url))
        if name:
            steps.append((name, ROLLBACK, None, False))

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "commit", commit)
    event.listen(Engine, "rollback", rollback)
    try:
        yield steps
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "commit", commit)
        event.remove(Engine, "rollback", rollback)


def open_portal(url: str):
    """As portal/db/engine.py opens it: explicit BEGINs (recorded), the same pragmas."""
    if url.startswith("postgresql"):
        import psycopg

        return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    for pragma in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON", "synchronous=NORMAL"):
        connection.execute(f"PRAGMA {pragma}")
    return connection


def open_erp(path: str):
    """As portal/erp/engines.py opens a SQLite ERP: its keys on."""
    connection = sqlite3.connect(path)
    for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = NORMAL"):
        connection.execute(f"PRAGMA {pragma}")
    return connection


def replay(steps: list, connections: dict) -> float:
    """Send the recorded steps again on `connections` (by name); the seconds it took."""
    cursors = {name: connection.cursor() for name, connection in connections.items()}
    started = time.perf_counter()
    for name, statement, parameters, executemany in steps:
        connection = connections[name]
        if statement is COMMIT:
            if isinstance(connection, sqlite3.Connection) and connection.isolation_level is None:
                if connection.in_transaction:
                    connection.execute("COMMIT")
            else:
                connection.commit()
        elif statement is ROLLBACK:
            connection.rollback()
        elif executemany:
            cursors[name].executemany(statement, parameters)
        else:
            cursors[name].execute(statement, parameters)
            if cursors[name].description is not None:
                cursors[name].fetchall()
    return time.perf_counter() - started
