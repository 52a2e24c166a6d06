"""The manifest of the running database, on any kind: PostgreSQL's check after pg_restore."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, inspect, select, table
from sqlalchemy.orm import Session

from portal.backup import instance_files
from portal.backup.manifest import build_manifest
from portal.models import utcnow
from portal.services.portal_status import schema_revision


def live_manifest(session: Session, config) -> dict[str, Any]:  # noqa: ANN001 (a Flask config)
    names = sorted(inspect(session.get_bind()).get_table_names())
    rows = {name: session.scalar(select(func.count()).select_from(table(name))) or 0 for name in names}
    manifest = build_manifest(
        created_at=utcnow().isoformat(timespec="seconds") + "Z",
        database_kind=instance_files(config).database_kind,
        schema_revision=list(schema_revision(session)),
        table_rows=rows,
        files={},
        notes=[],
    )
    session.rollback()
    return manifest
