"""A company's choice of ERP connector and its settings (Company Admin → ERP settings).

A company without a row is served as the environment provisions it (ERP_CONNECTOR). The one
secret (a password) is kept apart from the other settings so nothing that lists settings can
show it (screens only ever say whether one is set), and it is stored sealed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from portal.erp.sealed_password import unseal
from portal.extensions import db
from portal.models.company import Company
from portal.models.levels import utcnow


class ErpConnection(db.Model):
    __tablename__ = "erp_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    secret: Mapped[str] = mapped_column(String(500), default="")
    # Off until a Company Admin allows the connector to write to the company's Sage database.
    writes_enabled: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    company: Mapped[Company] = relationship(backref=backref("erp_connection", uselist=False))

    def connector_settings(self, secret_key: str) -> dict[str, str]:
        """The settings a connector is built with, the secret unsealed."""
        secret = {"password": unseal(self.secret, secret_key)} if self.secret else {}
        return {**(self.settings or {}), **secret}
