"""Differences between projects and their ERP jobs (issue 18): what each linked ERP job held at
the last comparison (a snapshot read through the connector), and the differences found then.

The snapshot is the ERP's side, kept so the differences can be computed in SQL and listed, paged
and searched without asking the ERP at every page; it is replaced whole at each comparison (every
sync, and Compare now).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.levels import utcnow
from portal.models.project import Project


class DifferenceKind(StrEnum):
    MISSING_IN_ERP = "missing_in_erp"
    MISSING_IN_PROJECT = "missing_in_project"
    COST_TYPES = "cost_types"
    DESCRIPTION = "description"


# The filters of the Differences with ERP tab, in this order, in the users' words.
DIFFERENCE_KINDS = {
    DifferenceKind.MISSING_IN_ERP: "Not on the ERP job",
    DifferenceKind.MISSING_IN_PROJECT: "Not on the project",
    DifferenceKind.COST_TYPES: "Cost types differ",
    DifferenceKind.DESCRIPTION: "Descriptions differ",
}


class ErpComparison(db.Model):
    """A company's last comparison of its projects with their ERP jobs."""

    __tablename__ = "erp_comparisons"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), unique=True)
    # The last comparison that read the ERP (its differences are the ones listed).
    compared_at: Mapped[datetime | None]
    # Set when the connector cannot read a job's codes at all: then nothing is listed, and the
    # screen says this instead of "no differences".
    unreadable: Mapped[str | None] = mapped_column(String(500))
    # False when the ERP keeps no cost type per job code (Sage 100 Contractor).
    cost_types_compared: Mapped[bool] = mapped_column(default=True)
    jobs_compared: Mapped[int] = mapped_column(default=0)
    # Jobs that could not be read ([{"job": "2402", "message": "..."}]): their projects are left out.
    job_problems: Mapped[list] = mapped_column(JSON, default=list)
    # The last attempt that failed (the ERP could not be used), and why; the listed differences
    # stay those of `compared_at`.
    failed_at: Mapped[datetime | None]
    failure: Mapped[str | None] = mapped_column(String(500))


class ErpJobCode(db.Model):
    """A cost code on an ERP job, as the connector read it at the last comparison."""

    __tablename__ = "erp_job_codes"
    __table_args__ = (UniqueConstraint("company_id", "job_number", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    job_number: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(255))
    # The job code's cost types, sorted and joined by "," (cost type codes hold no comma: digits
    # in Sage 100 Contractor, up to 3 characters in Sage 300 CRE); NULL when the ERP keeps none.
    cost_types: Mapped[str | None] = mapped_column(String(200))


class ErpJobRead(db.Model):
    """An ERP job the last comparison read: its projects are compared only when `problem` is NULL."""

    __tablename__ = "erp_job_reads"
    __table_args__ = (UniqueConstraint("company_id", "job_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    job_number: Mapped[str] = mapped_column(String(40))
    problem: Mapped[str | None] = mapped_column(String(500))


class ErpDifference(db.Model):
    """One difference between a project's code and its ERP job's, as of the last comparison."""

    __tablename__ = "erp_differences"
    __table_args__ = (
        # The tab's counts by kind, and each filter's page, read from this index.
        Index("ix_erp_differences_company_kind", "company_id", "kind", "job_number", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    job_number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    project_description: Mapped[str | None] = mapped_column(String(255))
    erp_description: Mapped[str | None] = mapped_column(String(255))
    erp_cost_types: Mapped[str | None] = mapped_column(String(200))
    found_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship()

    @property
    def kind_label(self) -> str:
        return DIFFERENCE_KINDS[DifferenceKind(self.kind)]
