"""`flask portal backup`, `restore`, `manifest` and `upgrade`: keeping an installation for years."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.backup import BackupError, instance_files
from portal.extensions import db


def _heartbeat_max_age() -> float:
    from portal.services.portal_status import HEARTBEAT_MAX_AGE

    return HEARTBEAT_MAX_AGE.total_seconds()


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--keep-days", type=int, default=None,
              help="Also delete this portal's archives in PATH's folder older than this many days.")
def backup_command(path: Path, keep_days: int | None) -> None:
    """Write a backup archive to PATH (a folder, or a file ending in .zip) while the portal runs."""
    from portal.backup.archive import create_backup
    from portal.models import LAST_BACKUP
    from portal.services.portal_status import record_mark

    try:
        result = create_backup(instance_files(current_app.config), path, keep_days=keep_days)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    counts = ", ".join(f"{count} {name}" for name, count in result.manifest["counts"].items())
    schema = ", ".join(result.manifest["schema_revision"])
    click.echo(f"Backup written to {result.archive} (schema {schema}): {counts}.")
    for pruned in result.pruned:
        click.echo(f"Deleted the old archive {pruned}.")
    try:
        record_mark(db.session, LAST_BACKUP, {"archive": result.archive.name,
                                              "bytes": result.archive.stat().st_size})
    except Exception as error:  # noqa: BLE001 (the archive is complete whatever went wrong here)
        from portal.faults import DISK_FULL, READ_ONLY, storage_fault

        fault = storage_fault(error)
        reason = {READ_ONLY: "it is read-only", DISK_FULL: "its disk is full"}.get(fault) \
            or f"{type(error).__name__}: {error}"
        raise click.ClickException(
            f"The archive {result.archive} is complete, but its time could not be recorded in the "
            f"portal's database ({reason}); Portal status will not show it."
        ) from error


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing.")
def restore_command(path: Path, yes: bool) -> None:
    """Restore a backup archive into this (stopped) installation."""
    from portal.backup.archive import create_backup
    from portal.backup.restore import plan_restore, restore_backup
    from portal.services.portal_status import migration_heads

    files = instance_files(current_app.config)
    db.session.remove()
    db.engine.dispose()  # this command's own connections must not hold the files being replaced
    try:
        plan = plan_restore(files, path, heartbeat_max_age_seconds=_heartbeat_max_age())
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    manifest = plan.manifest
    click.echo(f"Archive {path}: made {manifest['created_at']} by version {manifest['app_version']}, "
               f"schema {', '.join(manifest['schema_revision']) or 'none'}.")
    click.echo("It holds " + ", ".join(f"{count} {name}" for name, count in manifest["counts"].items()) + ".")
    click.echo("Restoring replaces:")
    for what, where, now in plan.replaces:
        click.echo(f"  {what}: {where} ({now})")
    if not yes:
        click.confirm("Replace them?", abort=True)
    saved = None
    if files.portal_database_path.exists():
        try:
            saved = create_backup(files, files.instance_dir / "before-restore").archive
        except BackupError as error:
            raise click.ClickException(
                f"What is there now could not be saved first, so nothing was replaced: {error}"
            ) from error
    try:
        restore_backup(files, path, plan)
    except (BackupError, OSError) as error:
        hint = f" What was there before is in {saved}." if saved else ""
        raise click.ClickException(f"The restore failed: {error}.{hint}") from error
    if saved:
        click.echo(f"What was there before is kept in {saved}.")
    heads = list(migration_heads(str(files.migrations_dir)))
    if manifest["schema_revision"] != heads:
        click.echo(f"The archive's schema is older than this version's ({', '.join(heads)}): "
                   "run `flask db upgrade` (make run does) before serving.")
    click.echo("Restored: " + ", ".join(f"{count} {name}" for name, count in manifest["counts"].items())
               + ", every table's rows as the manifest counted them.")


@click.command("manifest")
@click.option("--check", "check_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Compare the database's counts with a manifest saved at backup time.")
def manifest_command(check_path: Path | None) -> None:
    """Print the database's manifest (version, schema revision, rows per table) as JSON.

    On PostgreSQL, save it beside a pg_dump; after pg_restore, --check compares them.
    """
    from portal.backup.live import live_manifest

    manifest = live_manifest(db.session, current_app.config)
    if check_path is None:
        click.echo(json.dumps(manifest, indent=2, sort_keys=True))
        return
    saved = json.loads(check_path.read_text())
    if "files" in saved and "table_rows" not in saved:
        raise click.ClickException(f"{check_path} is not a portal manifest.")
    was, now = saved["table_rows"], manifest["table_rows"]
    differences = [
        f"{table}: {was.get(table, 0)} in the manifest, {now.get(table, 0)} now"
        for table in sorted(set(was) | set(now))
        if was.get(table, 0) != now.get(table, 0)
    ]
    if saved["schema_revision"] != manifest["schema_revision"]:
        differences.insert(0, f"schema revision: {saved['schema_revision']} in the manifest, "
                              f"{manifest['schema_revision']} now")
    if differences:
        raise click.ClickException("The database differs from the manifest:\n  " + "\n  ".join(differences))
    click.echo(f"The database matches {check_path}: " + ", ".join(
        f"{count} {name}" for name, count in manifest["counts"].items()) + ".")


def add_backup_commands(group: AppGroup) -> None:
    group.add_command(backup_command)
    group.add_command(restore_command)
    group.add_command(manifest_command)
    group.add_command(upgrade_command)


@click.command("upgrade")
def upgrade_command() -> None:
    """Upgrade the database to this version's schema in place, saying which migrations run."""
    import flask_migrate

    from portal.backup.upgrade import pending_migrations
    from portal.services.portal_status import migration_heads, schema_revision

    migrations_dir = instance_files(current_app.config).migrations_dir
    before = list(schema_revision(db.session))
    db.session.rollback()
    heads = list(migration_heads(str(migrations_dir)))
    if before == heads:
        click.echo(f"The database is at this version's schema ({', '.join(heads)}): no migration to run.")
        _seal_erp_passwords()
        return
    pending = pending_migrations(migrations_dir, before)
    click.echo(f"Database schema: {', '.join(before) or 'none (a new database)'}; "
               f"this version's: {', '.join(heads)}.")
    click.echo("Migrations to run:")
    for revision, title in pending:
        click.echo(f"  {revision} {title}")
    flask_migrate.upgrade(directory=str(migrations_dir))
    after = list(schema_revision(db.session))
    db.session.rollback()
    was = ", ".join(before) or "none"
    click.echo(f"Upgraded: {was} -> {', '.join(after)} ({len(pending)} migrations ran).")
    _seal_erp_passwords()


def _seal_erp_passwords() -> None:
    from portal.services.erp_settings import seal_stored_passwords

    sealed = seal_stored_passwords(db.session, current_app.config["SECRET_KEY"])
    if sealed:
        click.echo(f"Sealed the ERP settings password stored as plain text of: {', '.join(sealed)}.")
