"""An installation in a folder of its own (portal and ERP databases, secret key, Sage folders),
for the backup and restore tests."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import flask_migrate

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from tests.helpers import PortalClient


def installation_config(folder: Path, **overrides) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'portal.sqlite'}",
        "ERP_DATABASE_URL": f"sqlite:///{folder / 'erp.sqlite'}",
        "INSTANCE_DIR": folder,
        "ERP_CONNECTOR": "ridgeline=sage100_files",
        "SAGE100_INBOX_DIR": str(folder / "sage100" / "inbox"),
        "SAGE100_OUTBOX_DIR": str(folder / "sage100" / "outbox"),
        **overrides,
    }


def make_installation(folder: Path, seeded_database: Path) -> None:
    """A running portal's files: the demo database at head, an ERP database, a key, Sage files."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seeded_database, folder / "portal.sqlite")
    with sqlite3.connect(folder / "erp.sqlite") as erp:
        erp.execute("PRAGMA journal_mode=WAL")
        erp.execute("CREATE TABLE jobs (number TEXT PRIMARY KEY, name TEXT)")
        erp.execute("INSERT INTO jobs VALUES ('24-101', 'Clinic')")
    (folder / "secret_key").write_text("the-installation-key")
    (folder / "sage100" / "inbox").mkdir(parents=True)
    (folder / "sage100" / "outbox").mkdir(parents=True)
    (folder / "sage100" / "inbox" / "jobs.csv").write_text("24-101,Clinic\n")
    app = installation_app(folder)
    with app.app_context():
        flask_migrate.stamp()
        db.session.remove()
        db.engine.dispose()


def installation_app(folder: Path, **overrides):
    app = create_app(TestConfig, **installation_config(folder, **overrides))
    app.test_client_class = PortalClient
    return app


def table_contents(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table of a SQLite file, in a stable order."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)  # noqa: S608
            for table in sorted(tables)
        }
