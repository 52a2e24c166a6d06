"""Writing a backup archive while the portal runs, and pruning old ones."""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from portal.backup import BackupError, InstanceFiles
from portal.backup.manifest import (
    CHOSEN_SAGE_FOLDERS,
    ERP_COMPANIES_FOLDER,
    ERP_DATABASE_NAME,
    MANIFEST_NAME,
    PORTAL_DATABASE_NAME,
    SECRET_KEY_NAME,
    build_manifest,
    file_digest,
    sqlite_schema_revision,
    sqlite_table_rows,
)
from portal.models import utcnow

ARCHIVE_PREFIX = "portal-backup-"
ARCHIVE_NAME = re.compile(r"^portal-backup-(\d{8}-\d{6})\.zip$")
ARCHIVE_TIME_FORMAT = "%Y%m%d-%H%M%S"


@dataclass
class BackupResult:
    archive: Path
    manifest: dict[str, Any]
    pruned: list[Path]


def snapshot_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database with SQLite's online backup API.

    A file copy of a database in WAL mode can miss what is still in the -wal file or catch a
    page half-written; the backup API reads one snapshot, and writers go on meanwhile.
    """
    if not source.exists():
        raise BackupError(f"The database {source} does not exist.")
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as origin, sqlite3.connect(target) as copy:
        origin.execute("PRAGMA busy_timeout=10000")
        origin.backup(copy)
    # The copy is one file, readable without a -wal beside it.
    with sqlite3.connect(target) as copy:
        copy.execute("PRAGMA journal_mode=DELETE")


def company_erp_databases(erp_database: Path) -> list[Path]:
    """The reference ERP's per-company databases beside its directory database."""
    return sorted(erp_database.parent.glob(f"{erp_database.stem}-*{erp_database.suffix}"))


# A Company Admin may choose the Sage file connector's folders on ERP settings ("{company}"
# stands for the company's slug there, as in portal/erp/connectors.py).
CHOSEN_FOLDERS_SQL = """
SELECT c.slug, e.settings FROM erp_connections e JOIN companies c ON c.id = e.company_id
WHERE e.kind = 'sage100_files' ORDER BY c.slug
"""


def chosen_sage_folders(portal_database: Path, already: dict[str, Path]) -> dict[str, Path]:
    """The folders companies chose on ERP settings, read from the snapshot being archived (so
    they match it), leaving out any the environment's folders already hold."""
    with sqlite3.connect(portal_database) as connection:
        try:
            rows = connection.execute(CHOSEN_FOLDERS_SQL).fetchall()
        except sqlite3.OperationalError:  # a database from before ERP settings existed
            return {}
    held = [folder.resolve() for folder in already.values()]
    chosen: dict[str, Path] = {}
    for slug, settings in rows:
        for role in ("inbox", "outbox"):
            setting = (json.loads(settings or "{}").get(role) or "").strip()
            if not setting:
                continue
            folder = Path(setting.replace("{company}", slug))
            if not any(folder.resolve() == root or root in folder.resolve().parents for root in held):
                chosen[f"{CHOSEN_SAGE_FOLDERS}/{slug}/{role}"] = folder
    return chosen


def archive_path(destination: Path, now: datetime) -> Path:
    """PATH may name the archive (….zip) or the folder archives are kept in."""
    if destination.suffix.lower() == ".zip" and not destination.is_dir():
        return destination
    return destination / f"{ARCHIVE_PREFIX}{now.strftime(ARCHIVE_TIME_FORMAT)}.zip"


def _gather(files: InstanceFiles, staging: Path) -> tuple[dict[str, Path], list[str], dict[str, Path]]:
    """Copies of everything the archive holds, in `staging`; notes on what it leaves out; and
    the file connector's folders companies chose, by their names in the archive."""
    members: dict[str, Path] = {}
    notes: list[str] = []
    portal_database = files.portal_database_path
    if portal_database is None:
        raise BackupError(
            f"`flask portal backup` copies SQLite databases; this portal uses {files.database_kind}. "
            "Back it up with pg_dump as the README's Backups section shows."
        )
    snapshot_sqlite(portal_database, staging / PORTAL_DATABASE_NAME)
    members[PORTAL_DATABASE_NAME] = staging / PORTAL_DATABASE_NAME
    erp_database = files.erp_database_path
    if erp_database is not None and erp_database.exists():
        snapshot_sqlite(erp_database, staging / ERP_DATABASE_NAME)
        members[ERP_DATABASE_NAME] = staging / ERP_DATABASE_NAME
        # Each company's own reference ERP database lies beside it (erp.company_url).
        for company_database in company_erp_databases(erp_database):
            name = f"{ERP_COMPANIES_FOLDER}/{company_database.name}"
            snapshot_sqlite(company_database, staging / company_database.name)
            members[name] = staging / company_database.name
    else:
        notes.append("No embedded reference ERP database: not included.")
    if files.secret_key_path.exists():
        members[SECRET_KEY_NAME] = files.secret_key_path
    else:
        notes.append("The secret key comes from the SECRET_KEY setting: keep it with the archive yourself.")
    chosen = chosen_sage_folders(staging / PORTAL_DATABASE_NAME, files.sage_folders)
    for prefix, folder in sorted({**files.sage_folders, **chosen}.items()):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                members[f"{prefix}/{path.relative_to(folder).as_posix()}"] = path
    return members, notes, chosen


def _write_zip(target: Path, members: dict[str, Path], manifest: dict[str, Any]) -> None:
    """Write the archive under a temporary name and rename it: a half-written one never looks done."""
    partial = target.with_name(target.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True))
            for name, path in members.items():
                archive.write(path, name)
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise BackupError(
            f"The backup could not be written to {target}: {error.strerror or error}. "
            "Nothing in the portal was changed, and no partial archive was left behind."
        ) from error


def create_backup(files: InstanceFiles, destination: Path, *, keep_days: int | None = None,
                  now: datetime | None = None) -> BackupResult:
    """One archive of the installation, made while it runs; older archives pruned when asked."""
    now = now or utcnow()
    target = archive_path(destination, now)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"The backup folder {target.parent} cannot be made: {error.strerror}.") from error
    try:
        staging_dir = tempfile.TemporaryDirectory(prefix=".backup-", dir=target.parent)
    except OSError as error:
        raise BackupError(
            f"The backup folder {target.parent} cannot be written: {error.strerror}."
        ) from error
    with staging_dir as staging_name:
        staging = Path(staging_name)
        try:
            members, notes, chosen_folders = _gather(files, staging)
        except sqlite3.Error as error:
            raise BackupError(f"A database could not be copied: {error}. Nothing was changed.") from error
        except OSError as error:
            raise BackupError(
                f"The backup could not be written in {target.parent}: {error.strerror or error}. "
                "Nothing in the portal was changed."
            ) from error
        portal_copy = staging / PORTAL_DATABASE_NAME
        manifest = build_manifest(
            created_at=now.isoformat(timespec="seconds") + "Z",
            database_kind=files.database_kind,
            schema_revision=sqlite_schema_revision(portal_copy),
            table_rows=sqlite_table_rows(portal_copy),
            files={name: {"sha256": file_digest(path), "bytes": path.stat().st_size}
                   for name, path in members.items()},
            notes=notes,
            folders={prefix: str(folder) for prefix, folder in chosen_folders.items()},
        )
        _write_zip(target, members, manifest)
    pruned = prune_backups(target.parent, keep_days, now, keep=target) if keep_days is not None else []
    return BackupResult(archive=target, manifest=manifest, pruned=pruned)


def prune_backups(folder: Path, keep_days: int, now: datetime, keep: Path | None = None) -> list[Path]:
    """Delete this portal's archives in `folder` older than `keep_days` (by the time in their name)."""
    if keep_days < 1:
        raise BackupError("--keep-days must be 1 or more: the archive just written is always kept.")
    cutoff = now - timedelta(days=keep_days)
    pruned = []
    for path in sorted(folder.glob(f"{ARCHIVE_PREFIX}*.zip")):
        match = ARCHIVE_NAME.match(path.name)
        if path == keep or match is None:
            continue
        if datetime.strptime(match.group(1), ARCHIVE_TIME_FORMAT) < cutoff:
            path.unlink()
            pruned.append(path)
    return pruned


def copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
