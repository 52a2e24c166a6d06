"""`flask portal backup` and `flask portal restore`: an archive made while the portal runs
restores into a fresh folder with every record, and nothing is overwritten that must not be."""
from __future__ import annotations

import errno
import json
import shutil
import sqlite3
import threading
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.backup.archive import ARCHIVE_TIME_FORMAT
from portal.extensions import db
from portal.models import (
    LAST_BACKUP,
    WORKER_HEARTBEAT,
    AuditEvent,
    Company,
    CostCodeUpdateRequest,
    ErpConnection,
    Project,
    utcnow,
)
from portal.services.portal_status import read_mark, record_mark
from tests.backup_support import installation_app, make_installation, table_contents
from tests.helpers import BACKEND, migration_revisions

pytestmark = pytest.mark.skipif(
    BACKEND == "postgresql", reason="SQLite files; PostgreSQL: tests/test_backup_manifest.py"
)



@pytest.fixture
def source(seeded_database, tmp_path):
    folder = tmp_path / "source"
    make_installation(folder, seeded_database)
    app = installation_app(folder)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def run(app, *args: str, input: str | None = None):  # noqa: A002
    return app.test_cli_runner().invoke(args=["portal", *args], input=input)


def backup(app, destination: Path, *args: str) -> Path:
    result = run(app, "backup", str(destination), *args)
    assert result.exit_code == 0, result.output
    return Path(result.output.split("Backup written to ", 1)[1].split(" (schema", 1)[0])


def restore_into(folder: Path, archive: Path, *args: str):
    folder.mkdir(parents=True, exist_ok=True)
    app = installation_app(folder)
    with app.app_context():
        result = run(app, "restore", str(archive), "--yes", *args)
        db.session.remove()
        db.engine.dispose()
    return result


def test_backup_then_restore_into_a_fresh_folder_keeps_every_table_key_and_file(source, tmp_path):
    folder = Path(source.config["INSTANCE_DIR"])
    before = table_contents(folder / "portal.sqlite")
    archive = backup(source, tmp_path / "backups")

    result = restore_into(tmp_path / "fresh", archive)

    assert result.exit_code == 0, result.output
    fresh = tmp_path / "fresh"
    assert table_contents(fresh / "portal.sqlite") == before
    assert table_contents(fresh / "erp.sqlite") == table_contents(folder / "erp.sqlite")
    assert (fresh / "secret_key").read_text() == "the-installation-key"
    assert (fresh / "sage100" / "inbox" / "jobs.csv").read_text() == "24-101,Clinic\n"
    assert "Restored: " in result.output and "6 cost code update requests" in result.output
    assert "every table's rows as the manifest counted them" in result.output


def test_restore_checks_the_restored_rows_against_the_manifest(source, tmp_path):
    archive = backup(source, tmp_path / "backups")
    with zipfile.ZipFile(archive) as opened:
        rows = json.loads(opened.read("manifest.json"))["table_rows"]
    wrong = _rewritten(archive, tmp_path / "miscounted.zip", table_rows={**rows, "audit_events": 999})
    result = restore_into(tmp_path / "fresh", wrong)
    assert result.exit_code == 1
    assert "The restored database does not hold what the manifest counted" in result.output
    assert "What was there before" not in result.output  # the fresh folder had nothing to keep


def test_the_manifest_names_version_schema_counts_and_time(source, tmp_path):
    archive = backup(source, tmp_path / "backups")
    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        names = set(opened.namelist())
    assert manifest["app_version"] == "0.1.0"
    assert manifest["schema_revision"] == [migration_revisions()[-1]]
    assert manifest["counts"]["cost code update requests"] == db.session.query(CostCodeUpdateRequest).count()
    assert manifest["counts"]["audit events"] == db.session.query(AuditEvent).count()
    assert manifest["created_at"].endswith("Z")
    assert names == {"manifest.json", "portal.sqlite", "erp.sqlite", "secret_key", "sage100/inbox/jobs.csv"}


def test_the_restored_portal_starts_with_every_record(source, tmp_path):
    requests = db.session.query(CostCodeUpdateRequest).count()
    archive = backup(source, tmp_path / "backups")
    assert restore_into(tmp_path / "fresh", archive).exit_code == 0

    restored = installation_app(tmp_path / "fresh")
    with restored.app_context():
        assert db.session.query(CostCodeUpdateRequest).count() == requests
        response = restored.test_client().get("/healthz")
        assert response.get_json()["checks"]["migrations"]["ok"] is True
        db.session.remove()
        db.engine.dispose()


def _approve_every_waiting_request(app, stop: threading.Event, errors: list) -> None:
    from portal.services.approvals import approve_requested_updates
    from tests.helpers import user_by_email

    with app.app_context():
        try:
            approver = user_by_email("approver@ridgeline.test")
            waiting = db.session.scalars(select(CostCodeUpdateRequest.id).where(
                CostCodeUpdateRequest.company_id == approver.company_id,
                CostCodeUpdateRequest.status == "requested",
            )).all()
            for request_id in waiting:
                if stop.is_set():
                    break
                approve_requested_updates(db.session, request_id, approver, company_id=approver.company_id)
        except Exception as error:  # noqa: BLE001 (reported by the test)
            errors.append(error)
        finally:
            db.session.remove()


def _refresh_projects(app, stop: threading.Event, errors: list) -> None:
    from portal.services.refresh import refresh_project_cost_codes, start_project_refresh
    from tests.helpers import user_by_email

    with app.app_context():
        try:
            admin = user_by_email("admin@ridgeline.test")
            projects = db.session.scalars(select(Project).where(Project.company_id == admin.company_id)).all()
            for _ in range(3):
                for project in projects:
                    if stop.is_set():
                        return
                    job = start_project_refresh(db.session, project, admin)
                    refresh_project_cost_codes(db.session, job.id)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            db.session.remove()


def test_backup_during_approvals_and_refreshes_restores_a_consistent_portal(source, tmp_path):
    stop, errors = threading.Event(), []
    workers = [threading.Thread(target=work, args=(source, stop, errors))
               for work in (_approve_every_waiting_request, _refresh_projects)]
    for worker in workers:
        worker.start()
    archives = [backup(source, tmp_path / "backups" / f"{n}.zip") for n in range(3)]
    stop.set()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []

    final = table_contents(Path(source.config["INSTANCE_DIR"]) / "portal.sqlite")
    for number, archive in enumerate(archives):
        fresh = tmp_path / f"fresh-{number}"
        assert restore_into(fresh, archive).exit_code == 0
        restored = table_contents(fresh / "portal.sqlite")
        with zipfile.ZipFile(archive) as opened:
            manifest = json.loads(opened.read("manifest.json"))
        # Every table restored, row for row, as the manifest counted it.
        assert {table: len(rows) for table, rows in restored.items()} == manifest["table_rows"]
        # Every audit event in the backup is one the portal really wrote (nothing half-made)…
        assert set(restored["audit_events"]) <= set(final["audit_events"])
        # …and each approval in it came with its audit event: no transaction was cut in two.
        restored_app = installation_app(fresh)
        with restored_app.app_context():
            approved = db.session.scalars(select(CostCodeUpdateRequest.id).where(
                CostCodeUpdateRequest.status == "approved")).all()
            approve_events = db.session.scalars(select(AuditEvent.object_id).where(
                AuditEvent.action == "cost_code_update.approve")).all()
            assert sorted(str(i) for i in approved) == sorted(approve_events)
            db.session.remove()
            db.engine.dispose()


def test_the_last_backups_time_is_recorded_in_the_portal(source, tmp_path):
    before = utcnow().replace(microsecond=0)
    archive = backup(source, tmp_path / "backups")
    db.session.expire_all()
    mark = read_mark(db.session, LAST_BACKUP)
    assert mark.at >= before
    assert mark.details["archive"] == archive.name


def test_keep_days_deletes_only_this_portals_archives_older_than_that(source, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    old = folder / f"portal-backup-{(utcnow() - timedelta(days=10)).strftime(ARCHIVE_TIME_FORMAT)}.zip"
    recent = folder / f"portal-backup-{(utcnow() - timedelta(days=2)).strftime(ARCHIVE_TIME_FORMAT)}.zip"
    other = folder / "notes.zip"
    for path in (old, recent, other):
        path.write_bytes(b"x")

    result = run(source, "backup", str(folder), "--keep-days", "7")

    assert result.exit_code == 0, result.output
    assert not old.exists()
    assert recent.exists() and other.exists()
    assert f"Deleted the old archive {old}" in result.output
    assert len(list(folder.glob("portal-backup-*.zip"))) == 2


def test_restore_says_what_it_replaces_and_keeps_what_was_there(source, tmp_path):
    archive = backup(source, tmp_path / "backups")
    target = tmp_path / "target"
    make_installation(target, Path(source.config["INSTANCE_DIR"]) / "portal.sqlite")

    result = restore_into(target, archive)

    assert result.exit_code == 0, result.output
    assert f"the portal's database: {target / 'portal.sqlite'} (holds " in result.output
    assert "the instance secret key (everyone logs in again)" in result.output
    saved = list((target / "before-restore").glob("portal-backup-*.zip"))
    assert len(saved) == 1
    assert f"What was there before is kept in {saved[0]}" in result.output


def test_restore_asks_before_replacing(source, tmp_path):
    archive = backup(source, tmp_path / "backups")
    target = tmp_path / "target"
    target.mkdir()
    app = installation_app(target)
    with app.app_context():
        result = run(app, "restore", str(archive), input="n\n")
        db.engine.dispose()
    assert result.exit_code == 1
    assert "Replace them?" in result.output
    assert not (target / "portal.sqlite").exists() or table_contents(target / "portal.sqlite") == {}


def test_restore_refuses_a_running_portal_by_its_worker_heartbeat(source, tmp_path):
    archive = backup(source, tmp_path / "backups")
    record_mark(db.session, WORKER_HEARTBEAT)
    before = table_contents(Path(source.config["INSTANCE_DIR"]) / "portal.sqlite")

    result = run(source, "restore", str(archive), "--yes")

    assert result.exit_code == 1
    assert "background worker beat 0 s ago: the portal is running" in result.output
    assert table_contents(Path(source.config["INSTANCE_DIR"]) / "portal.sqlite") == before


def test_restore_goes_ahead_once_the_worker_said_it_stopped(source, tmp_path):
    archive = backup(source, tmp_path / "backups")
    record_mark(db.session, WORKER_HEARTBEAT, {"stopped": True})
    result = run(source, "restore", str(archive), "--yes")
    assert result.exit_code == 0, result.output


def test_restore_refuses_while_flask_portal_serve_holds_its_lock(source, tmp_path):
    from portal.backup.restore import serving_lock

    archive = backup(source, tmp_path / "backups")
    with serving_lock(Path(source.config["INSTANCE_DIR"])):
        result = run(source, "restore", str(archive), "--yes")
    assert result.exit_code == 1
    assert "serving.lock exists, written by `flask portal serve`" in result.output


def _rewritten(archive: Path, target: Path, **manifest_changes) -> Path:
    with zipfile.ZipFile(archive) as original, zipfile.ZipFile(target, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "manifest.json":
                data = json.dumps({**json.loads(data), **manifest_changes}).encode()
            copy.writestr(item, data)
    return target


def test_restore_refuses_an_archive_from_a_newer_schema(source, tmp_path):
    archive = _rewritten(backup(source, tmp_path / "backups"), tmp_path / "newer.zip",
                         schema_revision=["0099"], app_version="9.0.0")
    result = restore_into(tmp_path / "fresh", archive)
    assert result.exit_code == 1
    assert "made by a newer portal (schema revision 0099, version 9.0.0)" in result.output
    assert not (tmp_path / "fresh" / "portal.sqlite").exists()


def test_restore_refuses_a_damaged_archive_and_changes_nothing(source, tmp_path):
    archive = backup(source, tmp_path / "backups")
    with zipfile.ZipFile(archive) as opened:
        files = json.loads(opened.read("manifest.json"))["files"]
    files["portal.sqlite"]["sha256"] = "0" * 64
    damaged = _rewritten(archive, tmp_path / "damaged.zip", files=files)
    result = restore_into(tmp_path / "fresh", damaged)
    assert result.exit_code == 1
    assert "portal.sqlite in" in result.output and "is damaged" in result.output
    assert not (tmp_path / "fresh" / "portal.sqlite").exists()


def test_a_full_disk_during_backup_says_so_and_leaves_no_partial_archive(source, tmp_path, monkeypatch):
    before = table_contents(Path(source.config["INSTANCE_DIR"]) / "portal.sqlite")

    def disk_full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "write", disk_full)
    result = run(source, "backup", str(tmp_path / "backups"))

    assert result.exit_code == 1
    assert "No space left on device" in result.output
    assert "Nothing in the portal was changed, and no partial archive was left behind" in result.output
    assert list((tmp_path / "backups").iterdir()) == []
    assert table_contents(Path(source.config["INSTANCE_DIR"]) / "portal.sqlite") == before
    assert read_mark(db.session, LAST_BACKUP) is None


def test_a_read_only_database_is_backed_up_and_the_message_says_its_time_was_not_recorded(
    source, tmp_path
):
    folder = Path(source.config["INSTANCE_DIR"])
    read_only = installation_app(
        folder, SQLALCHEMY_DATABASE_URI=f"sqlite:///file:{folder / 'portal.sqlite'}?mode=ro&uri=true"
    )
    with read_only.app_context():
        result = run(read_only, "backup", str(tmp_path / "backups"))
        db.session.remove()
        db.engine.dispose()
    assert result.exit_code == 1
    archive = next((tmp_path / "backups").glob("portal-backup-*.zip"))
    assert (f"The archive {archive} is complete, but its time could not be recorded in the portal's "
            "database (it is read-only)") in result.output
    with zipfile.ZipFile(archive) as opened:
        assert opened.testzip() is None


def test_the_erp_database_copy_is_a_snapshot_not_a_file_copy_of_its_wal(source, tmp_path):
    # A write still in the ERP database's -wal file (a connection holds it open) is in the copy.
    erp = sqlite3.connect(Path(source.config["INSTANCE_DIR"]) / "erp.sqlite")
    erp.execute("PRAGMA wal_autocheckpoint=0")
    erp.execute("INSERT INTO jobs VALUES ('24-102', 'School')")
    erp.commit()
    try:
        archive = backup(source, tmp_path / "backups")
    finally:
        erp.close()
    assert restore_into(tmp_path / "fresh", archive).exit_code == 0
    assert table_contents(tmp_path / "fresh" / "erp.sqlite")["jobs"] == [
        ("24-101", "Clinic"), ("24-102", "School")
    ]


def test_each_companys_reference_erp_database_is_backed_up_and_restored(source, tmp_path):
    folder = Path(source.config["INSTANCE_DIR"])
    company_erp = sqlite3.connect(folder / "erp-ridgeline.sqlite")
    company_erp.execute("CREATE TABLE cstcde (recnum NUMERIC PRIMARY KEY, cdenme TEXT)")
    company_erp.execute("INSERT INTO cstcde VALUES (2010.000, 'Concrete Forms')")
    company_erp.commit()
    company_erp.close()
    archive = backup(source, tmp_path / "backups")
    with zipfile.ZipFile(archive) as opened:
        assert "erp-companies/erp-ridgeline.sqlite" in opened.namelist()

    result = restore_into(tmp_path / "fresh", archive)

    assert result.exit_code == 0, result.output
    assert table_contents(tmp_path / "fresh" / "erp-ridgeline.sqlite") == table_contents(
        folder / "erp-ridgeline.sqlite"
    )


def test_the_file_connector_folders_a_company_chose_on_erp_settings_are_backed_up_and_restored(
    source, tmp_path
):
    chosen = tmp_path / "sage-share"
    (chosen / "ridgeline" / "in").mkdir(parents=True)
    (chosen / "ridgeline" / "in" / "cost-codes.csv").write_text("2010.000,Concrete Forms\n")
    company = db.session.scalar(select(Company).where(Company.slug == "ridgeline"))
    db.session.add(ErpConnection(company_id=company.id, kind="sage100_files", settings={
        "inbox": str(chosen / "{company}" / "in"), "outbox": str(chosen / "{company}" / "out"),
    }))
    db.session.commit()
    archive = backup(source, tmp_path / "backups")
    with zipfile.ZipFile(archive) as opened:
        assert "sage100-chosen/ridgeline/inbox/cost-codes.csv" in opened.namelist()
    shutil.rmtree(chosen)  # the disk the share was on is lost

    result = restore_into(tmp_path / "fresh", archive)

    assert result.exit_code == 0, result.output
    assert "the Sage file connector's ridgeline's inbox" in result.output
    assert (chosen / "ridgeline" / "in" / "cost-codes.csv").read_text() == "2010.000,Concrete Forms\n"
