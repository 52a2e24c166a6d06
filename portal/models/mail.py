"""Outgoing mail: written in the transaction of the event it tells of, sent later by the worker.

One row per event and recipient (the unique key makes a repeated event a no-op, so nobody
hears of one event twice). The subject and text are written when the mail is sent, from the
facts kept here, so the web request that caused the event never renders or sends mail.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.levels import utcnow
from portal.models.project import Project
from portal.models.user import User

# What an approver chose on Account → Notifications for "a cost code update waits for you".
APPROVAL_MAIL_CHOICES = {
    "immediate": "At once, one e-mail per update",
    "daily": "One daily digest",
    "none": "No e-mail",
}

# What a mail tells of.
MAIL_KINDS = {
    "approval_wanted": "A cost code update waits for approval",
    "approved": "Your cost code update was approved",
    "rejected": "Your cost code update was rejected",
    "export_failed": "Your cost code update failed to export",
}

MAIL_STATES = {
    "queued": "Waiting to be sent",
    "sent": "Sent",
    "undeliverable": "Could not be delivered",
}


class OutgoingMail(db.Model):
    __tablename__ = "outgoing_mail"
    __table_args__ = (
        UniqueConstraint("event_key", "recipient_id", name="uq_outgoing_mail_event_recipient"),
        # The worker's question every minute: which queued mail is due?
        Index("ix_outgoing_mail_due", "state", "next_attempt_at"),
        Index("ix_outgoing_mail_company_state", "company_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event_key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("cost_code_update_requests.id"))
    # The rejection reason or export error as it was at the event (a later retry may change it).
    detail: Mapped[str] = mapped_column(String(1000), default="")
    actor_name: Mapped[str] = mapped_column(String(120), default="")
    digest: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(14), default="queued")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Due time; also the lease of a worker sending it (moved ahead while it is being sent).
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]

    recipient: Mapped[User] = relationship()
    project: Mapped[Project] = relationship()

    @property
    def state_label(self) -> str:
        return MAIL_STATES[self.state]

    @property
    def kind_label(self) -> str:
        return MAIL_KINDS[self.kind]
