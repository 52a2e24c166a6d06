"""The manifest: what an archive holds, counted from the copies inside it."""
from __future__ import annotations

import hashlib
import sqlite3
from importlib import metadata
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
PORTAL_DATABASE_NAME = "portal.sqlite"
ERP_DATABASE_NAME = "erp.sqlite"
# The reference ERP keeps each company in a database of its own, beside its directory database.
ERP_COMPANIES_FOLDER = "erp-companies"
CHOSEN_SAGE_FOLDERS = "sage100-chosen"
SECRET_KEY_NAME = "secret_key"  # noqa: S105 (the file's name in the archive)

# The counts an administrator checks a restore by, in the users' words, and their tables.
HEADLINE_COUNTS = {
    "cost code update requests": "cost_code_update_requests",
    "project cost codes": "project_cost_codes",
    "company cost codes": "standard_cost_codes",
    "audit events": "audit_events",
}


def app_version() -> str:
    try:
        return metadata.version("cost-code-portal")
    except metadata.PackageNotFoundError:
        return "unknown"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sqlite_table_rows(path: Path) -> dict[str, int]:
    """Rows per table of a SQLite file (a copy: nothing else writes to it)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )]
        return {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in tables
        }


def sqlite_schema_revision(path: Path) -> list[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        try:
            return sorted(row[0] for row in connection.execute("SELECT version_num FROM alembic_version"))
        except sqlite3.OperationalError:
            return []


def headline_counts(table_rows: dict[str, int]) -> dict[str, int]:
    return {label: table_rows.get(table, 0) for label, table in HEADLINE_COUNTS.items()}


def build_manifest(*, created_at: str, database_kind: str, schema_revision: list[str],
                   table_rows: dict[str, int], files: dict[str, dict[str, Any]],
                   notes: list[str], folders: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "app_version": app_version(),
        "created_at": created_at,
        "database": database_kind,
        "schema_revision": schema_revision,
        "counts": headline_counts(table_rows),
        "table_rows": table_rows,
        "files": files,
        "notes": notes,
        # Where each folder chosen on ERP settings was, so a restore puts it back there.
        "folders": folders or {},
    }
