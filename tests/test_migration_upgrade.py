"""Upgrades keep every record: a database made by the first release, with a row in every table,
upgraded to the newest schema still holds every row and value, on SQLite and PostgreSQL; and
`flask portal upgrade` (what `make run` calls) says which migrations ran."""
from __future__ import annotations

from datetime import datetime
from itertools import count

import flask_migrate
import pytest
from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, String, insert, select

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from portal.models import Company, ErpConnection
from tests.helpers import migration_revisions, side_paths
from tests.test_migrations import empty_postgres_database  # noqa: F401  (fixture)

FIRST_REVISION = "0001"
_numbers = count(1)

# The newest migration (numbered 0001, 0002, … in order): new migrations leave these tests as they are.


def _value(column, table_rows: dict[str, dict]):  # noqa: ANN001
    """A value that fits the column, different for every column (so a swap would show)."""
    for key in column.foreign_keys:
        if key.column.table is column.table:  # a row's parent in its own table: the first has none
            return None
        return table_rows[key.column.table.name][key.column.name]
    number = next(_numbers)
    kind = column.type
    if isinstance(kind, Boolean):
        return number % 2 == 0
    if isinstance(kind, Integer):
        return number
    if isinstance(kind, DateTime):
        return datetime(2025, 1 + number % 12, 1 + number % 28, number % 24, number % 60, number % 60)
    if isinstance(kind, JSON):
        return {"value": number, "text": f"v{number}"}
    if isinstance(kind, String):
        text = f"v{number}-{column.name}"
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no test value for {column.table.name}.{column.name} ({kind!r})")


def _fill_every_table(connection) -> dict[str, dict]:  # noqa: ANN001
    """One row in every table of the schema as it stands; returns the rows by table name."""
    metadata = MetaData()
    metadata.reflect(connection)
    rows: dict[str, dict] = {}
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        row = {column.name: _value(column, rows) for column in table.columns}
        connection.execute(insert(table), row)
        rows[table.name] = row
    return rows


def _read_back(connection, wanted: dict[str, dict]) -> dict[str, list[dict]]:  # noqa: ANN001
    metadata = MetaData()
    metadata.reflect(connection)
    found = {}
    for name, row in wanted.items():
        table = metadata.tables.get(name)
        if table is None:
            found[name] = []
            continue
        columns = [table.c[column] for column in row if column in table.c]
        found[name] = [dict(found_row._mapping) for found_row in connection.execute(select(*columns))]
    return found


def upgrade_keeps_every_record(url: str, tmp_path) -> None:
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, **side_paths(tmp_path))
    with app.app_context():
        try:
            flask_migrate.upgrade(revision=FIRST_REVISION)
            with db.engine.begin() as connection:
                written = _fill_every_table(connection)
            assert len(written) >= 14, sorted(written)  # every table the first release had

            flask_migrate.upgrade()

            with db.engine.connect() as connection:
                found = _read_back(connection, written)
            for name, row in written.items():
                assert found[name] == [row], f"{name} changed in the upgrade"
        finally:
            db.session.remove()
            db.engine.dispose()


def test_upgrade_from_the_first_release_keeps_every_record_on_sqlite(tmp_path):
    upgrade_keeps_every_record(f"sqlite:///{tmp_path / 'first-release.sqlite'}", tmp_path)


@pytest.mark.postgres
def test_upgrade_from_the_first_release_keeps_every_record_on_postgresql(
    empty_postgres_database, tmp_path  # noqa: F811
):
    upgrade_keeps_every_record(empty_postgres_database, tmp_path)


def _app_at(url: str, tmp_path, revision: str):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, **side_paths(tmp_path))
    with app.app_context():
        flask_migrate.upgrade(revision=revision)
        db.engine.dispose()
    return app


def test_portal_upgrade_says_which_migrations_ran(tmp_path):
    app = _app_at(f"sqlite:///{tmp_path / 'older.sqlite'}", tmp_path, "0004")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["portal", "upgrade"])
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    revisions = migration_revisions()
    head = revisions[-1]
    assert f"Database schema: 0004; this version's: {head}." in result.output
    assert "  0005 Indexes for listing cost codes in the ERP's order" in result.output
    assert "  0006 Portal marks: the background worker's heartbeat and the last backup's time" \
        in result.output
    ran = len(revisions) - revisions.index("0004") - 1
    assert f"Upgraded: 0004 -> {head} ({ran} migrations ran)." in result.output


def test_portal_upgrade_on_a_current_database_says_nothing_ran(tmp_path):
    app = _app_at(f"sqlite:///{tmp_path / 'current.sqlite'}", tmp_path, "head")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["portal", "upgrade"])
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    head = migration_revisions()[-1]
    assert f"The database is at this version's schema ({head}): no migration to run." in result.output


def test_portal_upgrade_on_a_new_database_builds_it(tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'new.sqlite'}",
                     **side_paths(tmp_path))
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["portal", "upgrade"])
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    revisions = migration_revisions()
    assert f"Database schema: none (a new database); this version's: {revisions[-1]}." in result.output
    assert f"Upgraded: none -> {revisions[-1]} ({len(revisions)} migrations ran)." in result.output


def test_portal_upgrade_seals_an_erp_password_stored_as_plain_text(tmp_path):
    app = _app_at(f"sqlite:///{tmp_path / 'plain-password.sqlite'}", tmp_path, "head")
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["portal", "seed-demo"]).exit_code == 0
        company = db.session.scalars(select(Company).order_by(Company.id)).first()
        company_name = company.name
        db.session.add(ErpConnection(company_id=company.id, kind="sage100_database", secret="Old-pw",
                                     settings={"url": "mssql+pymssql://api@sql1/Books"}))
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["portal", "upgrade"])
        db.session.expire_all()
        stored = db.session.scalar(select(ErpConnection))
        assert stored.secret.startswith("sealed:") and "Old-pw" not in stored.secret
        db.session.remove()
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert f"Sealed the ERP settings password stored as plain text of: {company_name}." in result.output
