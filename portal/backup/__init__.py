"""Backups that restore: one archive with the portal's database, the reference ERP's, the
instance secret key and the Sage file connector's folders, and a manifest to check them by.

`flask portal backup` / `flask portal restore` (portal/backup/cli.py) call these functions;
they take paths and URLs, never the Flask app, so a test (or a script) can call them alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what is left as it was."""


@dataclass(frozen=True)
class InstanceFiles:
    """Where one installation keeps what a backup must hold."""

    portal_database_url: str
    erp_database_url: str
    instance_dir: Path
    migrations_dir: Path
    # The Sage 100 Contractor file connector's inbox and outbox, when a company uses it.
    sage_folders: dict[str, Path] = field(default_factory=dict)

    @property
    def database_kind(self) -> str:
        return make_url(self.portal_database_url).get_backend_name()

    @property
    def portal_database_path(self) -> Path | None:
        return sqlite_path(self.portal_database_url)

    @property
    def erp_database_path(self) -> Path | None:
        return sqlite_path(self.erp_database_url)

    @property
    def secret_key_path(self) -> Path:
        return self.instance_dir / "secret_key"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    # sqlite:///file:/path/portal.sqlite?mode=ro&uri=true names the file as a URI
    database = parsed.database.removeprefix("file:") if parsed.query.get("uri") else parsed.database
    return Path(database.split("?", 1)[0])


def instance_files(config) -> InstanceFiles:  # noqa: ANN001 (a Flask config mapping)
    from portal.config import PROJECT_ROOT

    sage_used = "sage100_files" in str(config.get("ERP_CONNECTOR", ""))
    sage = {
        "sage100/inbox": Path(config["SAGE100_INBOX_DIR"]),
        "sage100/outbox": Path(config["SAGE100_OUTBOX_DIR"]),
    } if sage_used else {}
    return InstanceFiles(
        portal_database_url=config["SQLALCHEMY_DATABASE_URI"],
        erp_database_url=config["ERP_DATABASE_URL"],
        instance_dir=Path(config.get("INSTANCE_DIR") or PROJECT_ROOT / "instance"),
        migrations_dir=PROJECT_ROOT / "migrations",
        sage_folders=sage,
    )
