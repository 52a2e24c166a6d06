"""The cost code update request aggregate: what a project asks accounting to approve."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.levels import utcnow
from portal.models.project import Project
from portal.models.user import User


class RequestStatus(StrEnum):
    """Where a cost code update request stands: requested -> approved -> exported | failed, or
    requested -> rejected. A failed request is exported again by the next sync."""

    REQUESTED = "requested"
    APPROVED = "approved"
    EXPORTED = "exported"
    REJECTED = "rejected"
    FAILED = "failed"


REQUEST_STATES = {
    RequestStatus.REQUESTED: "Waiting for approval",
    RequestStatus.APPROVED: "Approved: waits for the next sync",
    RequestStatus.EXPORTED: "Exported",
    RequestStatus.REJECTED: "Rejected",
    RequestStatus.FAILED: "Failed to export",
}
# Open requests: their codes are not in the ERP yet. A project with one is not Synced, and a
# sync exports its contracts and change orders only after them.
OPEN_REQUEST_STATES = (RequestStatus.REQUESTED, RequestStatus.APPROVED, RequestStatus.FAILED)
# The export outbox: approved requests, and failed ones (retried).
TO_EXPORT_REQUEST_STATES = (RequestStatus.APPROVED, RequestStatus.FAILED)


class LineExportState(StrEnum):
    """A request line's export: each line keeps its own, so a crash mid-export loses nothing."""

    PENDING = "pending"
    EXPORTED = "exported"
    FAILED = "failed"


class CostCodeUpdateRequest(db.Model):
    __tablename__ = "cost_code_update_requests"
    __table_args__ = (
        # One open request per project, true under concurrency and not only in the page.
        Index(
            "uq_one_open_request_per_project",
            "project_id",
            unique=True,
            sqlite_where=text(f"status = '{RequestStatus.REQUESTED}'"),
            postgresql_where=text(f"status = '{RequestStatus.REQUESTED}'"),
        ),
        # The company's requests in one state, in the order Ready to Update lists them: the page
        # of 50 is read from the index in order, not sorted from every waiting request.
        Index(
            "ix_cost_code_update_requests_company_status",
            "company_id",
            "status",
            "requested_at",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=RequestStatus.REQUESTED)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rejected_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    exported_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))

    project: Mapped[Project] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    rejected_by: Mapped[User | None] = relationship(foreign_keys=[rejected_by_id])
    lines: Mapped[list[UpdateRequestLine]] = relationship(
        back_populates="request",
        order_by="(UpdateRequestLine.code, UpdateRequestLine.cost_type_code)",
        cascade="all, delete-orphan",
    )

    @property
    def status_label(self) -> str:
        return REQUEST_STATES[self.status]


class UpdateRequestLine(db.Model):
    """One code + cost type the project asks to have on its ERP job; also the export outbox row."""

    __tablename__ = "update_request_lines"
    __table_args__ = (UniqueConstraint("request_id", "code", "cost_type_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("cost_code_update_requests.id"), index=True)
    project_cost_code_id: Mapped[int] = mapped_column(ForeignKey("project_cost_codes.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("cost_type_assignments.id"))
    code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(255))
    division: Mapped[str] = mapped_column(String(40), default="")
    cost_type_code: Mapped[str] = mapped_column(String(3))
    # new_code: the code is new to the ERP job; new_cost_type: the code only gains a cost type
    change: Mapped[str] = mapped_column(String(14), default="new_code")
    export_state: Mapped[str] = mapped_column(String(10), default=LineExportState.PENDING)
    export_outcome: Mapped[str | None] = mapped_column(String(20))
    export_message: Mapped[str | None] = mapped_column(String(500))
    exported_at: Mapped[datetime | None]

    request: Mapped[CostCodeUpdateRequest] = relationship(back_populates="lines")
