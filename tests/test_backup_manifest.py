"""The manifest check that works on either database: on PostgreSQL it is how an administrator
checks a pg_restore against the pg_dump it came from (README, Backups)."""
from __future__ import annotations

import json
from pathlib import Path

import flask_migrate
import pytest

from portal.extensions import db
from portal.models import AuditEvent, CostCodeUpdateRequest
from portal.services.audit import record_event
from portal.services.portal_status import migration_heads
from tests.helpers import BACKEND, company_by_slug

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["portal", *args])


def test_manifest_prints_version_schema_and_rows_of_every_table(app):
    flask_migrate.stamp()
    result = run(app, "manifest")
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output)
    assert manifest["database"] == ("postgresql" if BACKEND == "postgresql" else "sqlite")
    # The newest migration, whichever it is: each new migration would otherwise edit this test.
    assert manifest["schema_revision"] == list(migration_heads(str(MIGRATIONS)))
    assert manifest["counts"]["cost code update requests"] == db.session.query(CostCodeUpdateRequest).count()
    assert manifest["table_rows"]["audit_events"] == db.session.query(AuditEvent).count()


def test_manifest_check_matches_an_unchanged_database_and_names_what_differs(app, tmp_path):
    saved = tmp_path / "manifest.json"
    saved.write_text(run(app, "manifest").output)

    same = run(app, "manifest", "--check", str(saved))
    assert same.exit_code == 0, same.output
    assert "The database matches" in same.output

    record_event(db.session, company_id=company_by_slug("ridgeline").id, actor=None, action="test.event",
                 object_type="company", object_id=1, object_label="x")
    db.session.commit()
    changed = run(app, "manifest", "--check", str(saved))
    assert changed.exit_code == 1
    events = db.session.query(AuditEvent).count()
    assert f"audit_events: {events - 1} in the manifest, {events} now" in changed.output


@pytest.mark.skipif(BACKEND != "postgresql", reason="the PostgreSQL refusal")
def test_backup_on_postgresql_points_at_pg_dump_in_the_readme(app, tmp_path):
    result = run(app, "backup", str(tmp_path / "backups"))
    assert result.exit_code == 1
    assert "this portal uses postgresql. Back it up with pg_dump as the README's Backups section shows" \
        in result.output
