"""`flask db upgrade` builds the schema the models describe, on SQLite and on PostgreSQL."""
from __future__ import annotations

import uuid

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, inspect, text
from sqlalchemy.exc import OperationalError

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from tests.helpers import POSTGRES_SERVER, postgres_admin, side_paths


def missing_expression_indexes(connection) -> list:
    """Alembic cannot compare indexes on expressions (it warns and skips them): look them up."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    present = set(connection.execute(text(query)).scalars())
    wanted = {
        index.name
        for table in db.metadata.tables.values()
        for index in table.indexes
        if any(not isinstance(expression, Column) for expression in index.expressions)
    }
    assert wanted, "the models have no expression index: this check would check nothing"
    return [("missing expression index", name) for name in sorted(wanted - present)]


def upgrade_and_compare(url: str, tmp_path) -> list:
    """Apply every migration to the empty database at `url`; what still differs from the models."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, **side_paths(tmp_path))
    with app.app_context():
        try:
            assert inspect(db.engine).get_table_names() == []
            flask_migrate.upgrade()
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                differences = compare_metadata(context, db.metadata)
                differences += missing_expression_indexes(connection)
                heads = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
                assert list(heads), "alembic_version is empty after the upgrade"
            return differences
        finally:
            db.session.remove()
            db.engine.dispose()


def test_upgrade_on_empty_sqlite_matches_the_models(tmp_path):
    differences = upgrade_and_compare(f"sqlite:///{tmp_path / 'empty.sqlite'}", tmp_path)
    assert differences == []


@pytest.fixture
def empty_postgres_database():
    admin = postgres_admin()
    name = f"ccp_migrate_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_SERVER}: {error.orig}")
    yield f"{POSTGRES_SERVER}/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_upgrade_on_empty_postgresql_matches_the_models(empty_postgres_database, tmp_path):
    assert upgrade_and_compare(empty_postgres_database, tmp_path) == []


def test_migration_lists_stored_sage300_codes_sage_would_refuse_as_invalid_never_dropping_them(tmp_path):
    """Codes stored under the old, looser rules stay, each marked with why Sage refuses it."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, **side_paths(tmp_path))
    with app.app_context():
        try:
            flask_migrate.upgrade(revision="0005")
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO companies (id, name, slug, erp_system, sync_schedule, cost_code_format,"
                    " requester_may_not_approve, created_at) VALUES"
                    " (1, 'Harbor', 'harbor', 'sage300cre', '1h', '', 0, '2026-01-01'),"
                    " (2, 'Ridge', 'ridge', 'sage100c', '1h', '', 0, '2026-01-01')"
                ))
                connection.execute(text(
                    "INSERT INTO standard_cost_codes (company_id, code, description, division,"
                    " division_name, active, archived, updated_at) VALUES"
                    " (1, '01-100', 'Fine', '01', '', 1, 0, '2026-01-01'),"
                    " (1, '01-100-1000-10', 'Long code', '01', '', 1, 0, '2026-01-01'),"
                    " (1, '1-2-3-4-5', 'Five sections', '1', '', 1, 0, '2026-01-01'),"
                    " (1, '01-200', :long, '01', '', 1, 0, '2026-01-01'),"
                    " (2, '2010.000', :long, '2000', '', 1, 0, '2026-01-01')"
                ), {"long": "x" * 45})
            flask_migrate.upgrade()
            with db.engine.connect() as connection:
                rows = dict(connection.execute(text(
                    "SELECT code, invalid_reason FROM standard_cost_codes ORDER BY id"
                )).all())
                file_types = connection.execute(text("SELECT sage100_file_type FROM companies")).scalars()
                assert list(file_types) == ["tab", "tab"]
        finally:
            db.session.remove()
            db.engine.dispose()
    assert set(rows) == {"01-100", "01-100-1000-10", "1-2-3-4-5", "01-200", "2010.000"}
    assert rows["01-100"] is None and rows["2010.000"] is None  # Sage 100 allows 50
    assert "14 characters long; Sage 300 CRE allows at most 12" in rows["01-100-1000-10"]
    assert "5 sections; Sage 300 CRE allows at most 4" in rows["1-2-3-4-5"]
    assert "45 characters long; Sage 300 CRE allows at most 30" in rows["01-200"]
