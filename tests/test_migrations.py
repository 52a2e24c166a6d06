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
