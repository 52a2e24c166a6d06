"""Restoring an archive into an installation that is stopped."""
from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from portal.backup import BackupError, InstanceFiles
from portal.backup.manifest import (
    ERP_COMPANIES_FOLDER,
    ERP_DATABASE_NAME,
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    PORTAL_DATABASE_NAME,
    SECRET_KEY_NAME,
    file_digest,
    headline_counts,
    sqlite_table_rows,
)
from portal.models import utcnow
from portal.models.portal_state import WORKER_HEARTBEAT

# `flask portal serve` keeps this file in instance/ while it runs (portal/backup/cli.py).
SERVING_LOCK_NAME = "serving.lock"


@dataclass
class RestorePlan:
    manifest: dict[str, Any]
    # (what, where, what is there now) for each thing the restore replaces
    replaces: list[tuple[str, str, str]] = field(default_factory=list)
    upgrade_needed: bool = False


def read_manifest(archive_path: Path) -> dict[str, Any]:
    """The archive's manifest, after checking every file it lists is there, whole."""
    try:
        with zipfile.ZipFile(archive_path) as archive:
            manifest = json.loads(archive.read(MANIFEST_NAME))
            if manifest.get("format") != MANIFEST_FORMAT:
                raise BackupError(
                    f"{archive_path} has a manifest of another format ({manifest.get('format')})."
                )
            names = set(archive.namelist())
            missing = sorted(set(manifest["files"]) - names)
            if missing:
                raise BackupError(f"{archive_path} is incomplete: {', '.join(missing)} missing.")
            return manifest
    except FileNotFoundError as error:
        raise BackupError(f"There is no archive at {archive_path}.") from error
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise BackupError(f"{archive_path} is not a portal backup archive ({error}).") from error


def _known_revisions(migrations_dir: Path) -> set[str]:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def running_refusal(files: InstanceFiles, now: datetime, heartbeat_max_age_seconds: float) -> str | None:
    """Why the installation looks running (so must not be overwritten), or None.

    Two signs: the serving lock `flask portal serve` keeps in instance/, and a worker heartbeat
    in the database younger than the health check's limit that its worker has not marked stopped.
    """
    lock = files.instance_dir / SERVING_LOCK_NAME
    if lock.exists():
        return (
            f"The portal is being served from this instance ({lock} exists, written by "
            f"`flask portal serve`, process {lock.read_text().strip() or '?'}). Stop it first; "
            "if it is already stopped (after a crash), delete that file."
        )
    database = files.portal_database_path
    if database is None or not database.exists():
        return None
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            row = connection.execute(
                "SELECT at, details FROM portal_marks WHERE name = ?", (WORKER_HEARTBEAT,)
            ).fetchone()
    except sqlite3.Error:
        return None  # no heartbeat table yet: no worker of this version has run on it
    if row is None or json.loads(row[1] or "{}").get("stopped"):
        return None
    age = (now - datetime.fromisoformat(row[0])).total_seconds()
    if age < heartbeat_max_age_seconds:
        return (
            f"The portal's background worker beat {round(age)} s ago: the portal is running. "
            "Stop the portal and its worker first (a worker that stops normally says so at once; "
            f"after a crash, wait until its last heartbeat is {round(heartbeat_max_age_seconds)} s old)."
        )
    return None


def _describe(path: Path | None, label: str) -> str:
    if path is None or not path.exists():
        return "nothing there yet"
    if label == "database":
        counts = headline_counts(sqlite_table_rows(path))
        return "holds " + ", ".join(f"{count} {name}" for name, count in counts.items())
    return "exists"


def plan_restore(files: InstanceFiles, archive_path: Path, *, heartbeat_max_age_seconds: float,
                 now: datetime | None = None) -> RestorePlan:
    """What restoring `archive_path` would replace; refuses what must not be restored."""
    manifest = read_manifest(archive_path)
    if files.portal_database_path is None:
        raise BackupError(
            f"`flask portal restore` restores SQLite installations; this portal uses {files.database_kind}. "
            "Restore it with pg_restore as the README's Backups section shows."
        )
    unknown = sorted(set(manifest["schema_revision"]) - _known_revisions(files.migrations_dir))
    if unknown:
        raise BackupError(
            f"The archive was made by a newer portal (schema revision {', '.join(unknown)}, version "
            f"{manifest['app_version']}) than this one knows. Install that version or newer, then restore."
        )
    refusal = running_refusal(files, now or utcnow(), heartbeat_max_age_seconds)
    if refusal:
        raise BackupError(refusal)
    plan = RestorePlan(manifest=manifest)
    plan.replaces.append(("the portal's database", str(files.portal_database_path),
                          _describe(files.portal_database_path, "database")))
    if ERP_DATABASE_NAME in manifest["files"] and files.erp_database_path is not None:
        plan.replaces.append(("the reference ERP's database", str(files.erp_database_path),
                              _describe(files.erp_database_path, "erp")))
    if SECRET_KEY_NAME in manifest["files"]:
        plan.replaces.append(("the instance secret key (everyone logs in again)", str(files.secret_key_path),
                              _describe(files.secret_key_path, "key")))
    for prefix, folder in sorted(_sage_folders(files, manifest).items()):
        if any(name.startswith(prefix + "/") for name in manifest["files"]):
            whose = f"{prefix.split('/')[1]}'s " if prefix.count("/") == 2 else ""
            plan.replaces.append((f"the Sage file connector's {whose}{prefix.split('/')[-1]}", str(folder),
                                  _describe(folder, "folder")))
    return plan


def _sage_folders(files: InstanceFiles, manifest: dict) -> dict[str, Path]:
    """The environment's file connector folders, and those companies chose on ERP settings,
    put back where the archive says they were."""
    chosen = {prefix: Path(path) for prefix, path in manifest.get("folders", {}).items()}
    return {**files.sage_folders, **chosen}


def _install_sqlite(source: Path, target: Path) -> None:
    """Write a database over another with the backup API: the target's -wal is dealt with too."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as destination:
        origin.backup(destination)
    with sqlite3.connect(target) as destination:
        destination.execute("PRAGMA journal_mode=WAL")


def restore_backup(files: InstanceFiles, archive_path: Path, plan: RestorePlan) -> None:
    """Replace the installation's data with the archive's (after plan_restore said it may)."""
    manifest = plan.manifest
    files.instance_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive_path) as archive, \
            tempfile.TemporaryDirectory(prefix=".restore-", dir=files.instance_dir) as staging_name:
        staging = Path(staging_name)
        for name, expected in manifest["files"].items():
            extracted = Path(archive.extract(name, staging))
            if file_digest(extracted) != expected["sha256"]:
                raise BackupError(
                    f"{name} in {archive_path} is damaged (its checksum differs). Nothing was changed."
                )
        _install_sqlite(staging / PORTAL_DATABASE_NAME, files.portal_database_path)
        restored = sqlite_table_rows(files.portal_database_path)
        if restored != manifest["table_rows"]:
            raise BackupError(
                f"The restored database does not hold what the manifest counted ({restored} "
                f"instead of {manifest['table_rows']})."
            )
        if ERP_DATABASE_NAME in manifest["files"] and files.erp_database_path is not None:
            _install_sqlite(staging / ERP_DATABASE_NAME, files.erp_database_path)
            for name in manifest["files"]:
                if name.startswith(ERP_COMPANIES_FOLDER + "/"):
                    target = files.erp_database_path.with_name(name.removeprefix(ERP_COMPANIES_FOLDER + "/"))
                    _install_sqlite(staging / name, target)
        if SECRET_KEY_NAME in manifest["files"]:
            key = files.secret_key_path
            key.unlink(missing_ok=True)
            descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write((staging / SECRET_KEY_NAME).read_bytes())
        for prefix, folder in _sage_folders(files, manifest).items():
            for name in manifest["files"]:
                if name.startswith(prefix + "/"):
                    target = folder / name[len(prefix) + 1:]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staging / name, target)


def stop_on_sigterm() -> None:
    """systemd, Docker and `kill` stop a service with SIGTERM: stop as for Ctrl-C, so that the
    worker threads end and the serving lock goes (SIGTERM's default ends the process at once)."""
    import signal

    def _interrupt(_signum, _frame):  # noqa: ANN001, ANN202
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)


class serving_lock:  # noqa: N801 (used as `with serving_lock(...)`, like open())
    """Kept in instance/ while `flask portal serve` runs, so a restore knows not to overwrite it."""

    def __init__(self, instance_dir: Path):
        self.path = instance_dir / SERVING_LOCK_NAME

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{os.getpid()}\n")
        return self.path

    def __exit__(self, *_exc: object) -> None:
        self.path.unlink(missing_ok=True)
