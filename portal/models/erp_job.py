"""ERP jobs seen by the sync, and the commitments (contracts, change orders) exported to them."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.levels import utcnow
from portal.models.project import Project


class CommitmentStatus(StrEnum):
    """ready (to export) -> export_requested -> exported | failed; a failed one may be asked again."""

    READY = "ready"
    EXPORT_REQUESTED = "export_requested"
    EXPORTED = "exported"
    FAILED = "failed"


class ErpJob(db.Model):
    """A job that exists in the ERP; one with no portal project shows under Ready to Import."""

    __tablename__ = "erp_jobs"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        # Ready to Import (no project, not hidden) is a range of this index: most ERP jobs are
        # linked to a project, and the Jobs tab counts the unlinked ones on every page.
        Index("ix_erp_jobs_ready_to_import", "company_id", "project_id", "hidden"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    hidden: Mapped[bool] = mapped_column(default=False)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Commitment(db.Model):
    """A contract or change order of a project, exported to the ERP job after its cost codes."""

    __tablename__ = "commitments"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"))
    kind: Mapped[str] = mapped_column(String(14))  # contract | change_order
    number: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    amount_cents: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(18), default=CommitmentStatus.READY)
    export_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    export_requested_at: Mapped[datetime | None]
    exported_at: Mapped[datetime | None]
    export_error: Mapped[str | None] = mapped_column(String(500))

    project: Mapped[Project] = relationship()
    parent: Mapped[Commitment | None] = relationship(remote_side=[id])

    @property
    def kind_label(self) -> str:
        return "Contract" if self.kind == "contract" else "Change order"
