"""Background work whose state lives in the portal's database, so any web worker can report it."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.levels import utcnow
from portal.models.project import Project
from portal.models.user import User


class JobStatus(StrEnum):
    """A background job's (refresh job's, sync run's) state: queued -> running -> succeeded |
    failed; a sync run whose steps had failures ends partial."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"


# Queued or running: a second one of the same project (refresh) or company (sync) must wait.
ACTIVE_JOB_STATES = (JobStatus.QUEUED, JobStatus.RUNNING)


class RefreshJob(db.Model):
    """A refresh of one project's cost codes from the company list."""

    __tablename__ = "refresh_jobs"
    __table_args__ = (
        # A second click while a refresh is queued or running must get the same job.
        Index(
            "uq_one_active_refresh_per_project",
            "project_id",
            unique=True,
            sqlite_where=text(f"status IN ('{JobStatus.QUEUED}', '{JobStatus.RUNNING}')"),
            postgresql_where=text(f"status IN ('{JobStatus.QUEUED}', '{JobStatus.RUNNING}')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    batch_id: Mapped[str | None] = mapped_column(String(36), index=True)  # Refresh all projects
    status: Mapped[str] = mapped_column(String(10), default=JobStatus.QUEUED)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    not_in_company_list: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[list[Any]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]

    project: Mapped[Project] = relationship()
    requested_by: Mapped[User | None] = relationship()

    @property
    def finished(self) -> bool:
        return self.status in {JobStatus.SUCCEEDED, JobStatus.FAILED}


class SyncRun(db.Model):
    """One data sync of one company with its ERP."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        # Runs of one company never overlap.
        Index(
            "uq_one_running_sync_per_company",
            "company_id",
            unique=True,
            sqlite_where=text(f"status = '{JobStatus.RUNNING}'"),
            postgresql_where=text(f"status = '{JobStatus.RUNNING}'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    run_number: Mapped[int] = mapped_column(default=1)
    trigger: Mapped[str] = mapped_column(String(10), default="schedule")  # schedule | manual
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default=JobStatus.RUNNING)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # per step
    invalid_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
