"""What the portal knows about itself: when its background worker last beat, when it was backed up.

Kept in the portal's database (not in a process's memory or one server's files) so that every
web worker, on any machine, reports the same state.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.levels import utcnow

# The marks the portal keeps (PortalMark.name).
WORKER_HEARTBEAT = "worker heartbeat"
LAST_BACKUP = "last backup"


class PortalMark(db.Model):
    """One named moment in the portal's life, overwritten each time it happens again."""

    __tablename__ = "portal_marks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
