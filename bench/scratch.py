"""Databases of their own for the figures that need a company of another shape than the main one
(refresh all projects, bulk approval, the scale curve), so they neither slow the other figures
nor take the requests those figures use.

Each is built in SQLite (the floors always read raw SQLite) and, with --db postgresql, in a
PostgreSQL database of its own as well; both are gone when the figure ends.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Twin:
    url: str  # the database the portal uses (the bench's --db)
    floor_path: Path  # a raw SQLite copy made before the portal touched it, for the floor
    built: object  # what the build function returned (ids)


def portal_app(bench, url: str):
    from bench.harness import SECRET
    from portal import create_app
    from portal.config import Config

    return create_app(
        Config,
        SQLALCHEMY_DATABASE_URI=url,
        ERP_DATABASE_URL=bench.erp_url,
        SECRET_KEY=SECRET,
        HUEY_IMMEDIATE=True,
        RATELIMIT_ENABLED=False,
    )


def _build(bench, url: str, build: Callable) -> object:
    from portal.extensions import db

    app = portal_app(bench, url)
    with app.app_context():
        db.create_all()
        built = build(db.session)
        db.session.commit()
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        db.engine.dispose()
    return built


def _drop_sqlite(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)


@contextmanager
def twin_databases(bench, name: str, build: Callable) -> Iterator[Twin]:
    """`build(session)` run into a fresh database (and a floor copy); dropped afterwards."""
    sqlite_path = bench.work / f"{name}.sqlite"
    floor_path = bench.work / f"{name}-floor.sqlite"
    pg_name = f"{bench.pg_name}_{name.replace('-', '_')}" if bench.db == "postgresql" else None
    built = _build(bench, f"sqlite:///{sqlite_path}", build)
    with closing(sqlite3.connect(sqlite_path)) as source, closing(sqlite3.connect(floor_path)) as target:
        source.backup(target)
    try:
        if pg_name:
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{pg_name}"'))
            admin.dispose()
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
            built = _build(bench, url, build)
        else:
            url = f"sqlite:///{sqlite_path}"
        yield Twin(url, floor_path, built)
    finally:
        _drop_sqlite(sqlite_path)
        _drop_sqlite(floor_path)
        if pg_name:
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            admin.dispose()
