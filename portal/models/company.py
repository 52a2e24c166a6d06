"""The company aggregate: the company, its ERP cost types and its ERP Standard Cost Code list."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.erp.formats import SAGE300, CostCodeMask, parse_mask
from portal.extensions import db
from portal.models.levels import utcnow

ERP_SYSTEMS = {"sage100c": "Sage 100 Contractor", "sage300cre": "Sage 300 CRE"}
SYNC_SCHEDULES = {
    "5m": "Every 5 minutes",
    "15m": "15 minutes",
    "30m": "30 minutes",
    "1h": "Hourly",
    "2h": "Every 2 hours",
    "4h": "Every 4 hours",
    "1d": "Daily",
    "never": "Never",
}


class Company(db.Model):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The key the ERP connector knows this company by (reference ERP company, file folders).
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    erp_system: Mapped[str] = mapped_column(String(20))
    sync_schedule: Mapped[str] = mapped_column(String(10), default="1h")
    cost_code_format: Mapped[str] = mapped_column(String(120), default="")
    # Sage 300 CRE: the company's cost code mask as Company Admin shows it ("99-999"), set there
    # or read from the ERP by each sync when the connector can; None: not known (formats.parse_mask).
    cost_code_mask: Mapped[str | None] = mapped_column(String(20))
    # Sage 100 Contractor file connector: which of Sage's import file types it writes
    # (sage100_import.FILE_TYPES: tab, cma or qte).
    sage100_file_type: Mapped[str] = mapped_column(String(3), default="tab", server_default="tab")
    requester_may_not_approve: Mapped[bool] = mapped_column(default=False)
    # The zone times are shown in (an IANA name); stored times stay UTC.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # When the company list last changed, to tell which projects lag behind it.
    standard_codes_changed_at: Mapped[datetime | None]
    last_sync_at: Mapped[datetime | None]
    next_sync_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cost_types: Mapped[list[CostType]] = relationship(
        back_populates="company", order_by="CostType.code"
    )

    @property
    def erp_name(self) -> str:
        return ERP_SYSTEMS[self.erp_system]

    @property
    def mask(self) -> CostCodeMask | None:
        """The cost code mask the company's codes must fit (Sage 300 CRE), if known."""
        if self.erp_system != SAGE300:
            return None
        return parse_mask(self.cost_code_mask)

    @property
    def sync_schedule_label(self) -> str:
        return SYNC_SCHEDULES.get(self.sync_schedule, self.sync_schedule)

    def __repr__(self) -> str:
        return f"<Company {self.slug}>"


class CostType(db.Model):
    """Sage 100 Contractor cost type (1..9) or Sage 300 CRE category (up to 3 characters)."""

    __tablename__ = "cost_types"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    code: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(60))

    company: Mapped[Company] = relationship(back_populates="cost_types")

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


class StandardCostCode(db.Model):
    """A code of the company-level ERP Standard Cost Code list, synced from the ERP."""

    __tablename__ = "standard_cost_codes"
    __table_args__ = (
        UniqueConstraint("company_id", "code"),
        # ERP Standard Cost Codes pages through the list in the ERP's order (formats.in_code_order).
        Index("ix_standard_cost_codes_code_order", "company_id", text("length(code)"), "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(255))
    division: Mapped[str] = mapped_column(String(40), default="")  # tier 1
    division_name: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(default=True)
    archived: Mapped[bool] = mapped_column(default=False)
    # Why the ERP would refuse the code as stored (it no longer fits the company's format, e.g. a
    # new mask): listed in ERP Standard Cost Codes, never added to projects; never deleted.
    invalid_reason: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def addable(self) -> bool:
        return self.active and not self.archived and not self.invalid_reason
