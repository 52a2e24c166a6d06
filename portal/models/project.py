"""The project aggregate: the project, its ERP link and its Cost Code segment."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.company import Company, CostType
from portal.models.levels import utcnow

# Where a project stands towards the ERP job (the Jobs tab filters are built from it).
ERP_LINK_STATES = {
    "ready_to_export": "Ready to Export",  # no ERP job yet, waits for an approver to accept
    "accepted": "Accepted",  # the next sync creates the ERP job
    "rejected": "Rejected",
    "linked": "Linked",
}


class AssignmentErpState(StrEnum):
    """A cost type assignment on its way to the ERP job: new (only in the portal) -> requested
    (in a waiting update request) -> approved -> exported."""

    NEW = "new"
    REQUESTED = "requested"
    APPROVED = "approved"
    EXPORTED = "exported"


# A project whose link to the ERP job has an error message (the Failed to Export filter).
LINK_ERROR_CONDITION = "erp_link_message IS NOT NULL AND erp_link_message != ''"


class Project(db.Model):
    __tablename__ = "projects"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        # The Jobs tab's filter counts read this index alone, not the company's every project.
        Index("ix_projects_job_filters", "company_id", "archived", "erp_link_state"),
        # Failed to Export counts the few projects with a link error: a partial index holds just
        # them (covering, so the count never reads the table; ix_projects_job_filters leaves the
        # message out so that SQLite never prefers it here). The Jobs queries write the same
        # condition with literal constants, which is what lets SQLite match it to this index.
        Index(
            "ix_projects_link_error",
            "company_id",
            "erp_link_state",
            "erp_link_message",
            sqlite_where=text(LINK_ERROR_CONDITION),
            postgresql_where=text(LINK_ERROR_CONDITION),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    erp_job_number: Mapped[str | None] = mapped_column(String(40))
    erp_link_state: Mapped[str] = mapped_column(String(20), default="ready_to_export")
    erp_link_message: Mapped[str | None] = mapped_column(String(500))
    archived: Mapped[bool] = mapped_column(default=False)
    cost_codes_refreshed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    company: Mapped[Company] = relationship()
    cost_codes: Mapped[list[ProjectCostCode]] = relationship(
        back_populates="project", order_by="ProjectCostCode.code", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        return f"{self.number} {self.name}"


class ProjectCostCode(db.Model):
    """A code of the project's Cost Code segment."""

    __tablename__ = "project_cost_codes"
    __table_args__ = (
        UniqueConstraint("project_id", "code"),
        # The Cost Code table pages through a project's codes in the ERP's order
        # (formats.in_code_order); without this each page sorted all of them (20,000 after a refresh).
        Index("ix_project_cost_codes_code_order", "project_id", text("length(code)"), "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    standard_cost_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("standard_cost_codes.id"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(255))
    division: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(default=True)
    origin: Mapped[str] = mapped_column(String(10), default="company")  # company | project
    # Set by a refresh when the company list no longer has the code: flagged, never deleted.
    not_in_company_list: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="cost_codes")
    assignments: Mapped[list[CostTypeAssignment]] = relationship(
        back_populates="cost_code", cascade="all, delete-orphan"
    )


class CostTypeAssignment(db.Model):
    """One cost type tied to a project cost code. A code's assignments are a set that only grows."""

    __tablename__ = "cost_type_assignments"
    # No index on erp_state alone: every query for a state also names the project's codes, and
    # SQLite would otherwise read every assignment in that state, of every company, first.
    __table_args__ = (UniqueConstraint("project_cost_code_id", "cost_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_cost_code_id: Mapped[int] = mapped_column(ForeignKey("project_cost_codes.id"))
    cost_type_id: Mapped[int] = mapped_column(ForeignKey("cost_types.id"))
    # new (not sent yet) -> requested (in an open request) -> approved -> exported
    erp_state: Mapped[str] = mapped_column(String(12), default=AssignmentErpState.NEW)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cost_code: Mapped[ProjectCostCode] = relationship(back_populates="assignments")
    cost_type: Mapped[CostType] = relationship()
