"""Writing mail into the outbox, in the transaction of the event it tells of.

A mail exists once per event and recipient (the table's unique key; a repeated event, such as
a failed export failing again at the next sync, adds nothing). With no mail server configured
nothing is written, so turning mail on later does not send a backlog of old news.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from portal.models import (
    APPROVAL_MAIL_CHOICES,
    CostCodeUpdateRequest,
    OutgoingMail,
    UpdateRequestLine,
    User,
    utcnow,
)
from portal.services import ServiceError, transaction
from portal.services.audit import record_event


def mail_is_on() -> bool:
    """Whether mail is configured (SMTP_URL and MAIL_FROM). The one place the outbox reads the
    app's settings: the hooks stay one call inside services that know nothing of mail."""
    return has_app_context() and bool(
        current_app.config.get("SMTP_URL") and current_app.config.get("MAIL_FROM")
    )


def next_digest_time(now: datetime, hour: int) -> datetime:
    """The next daily digest after `now` (UTC, at `hour` o'clock)."""
    today = datetime.combine(now.date(), time(hour))
    return today if today > now else today + timedelta(days=1)


def _insert_once(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(OutgoingMail).values(rows).on_conflict_do_nothing(
            index_elements=["event_key", "recipient_id"]
        )
    )


def _row(request: CostCodeUpdateRequest, recipient: User, kind: str, key: str, **values: Any) -> dict:
    now = utcnow()
    return {
        "company_id": request.company_id, "recipient_id": recipient.id, "event_key": key,
        "kind": kind, "project_id": request.project_id, "request_id": request.id,
        "detail": "", "actor_name": "", "digest": False, "state": "queued", "created_at": now,
        "next_attempt_at": now, "attempts": 0, **values,
    }


def queue_approval_wanted_mail(session: Session, request: CostCodeUpdateRequest, requester: User) -> None:
    """Every approver of the company hears that the project's update waits: at once or in the
    daily digest, as each chose on Account → Notifications (or not at all)."""
    if not mail_is_on():
        return
    # Each send (a request that grows while it waits is sent again) is its own event.
    lines = session.scalar(
        select(func.count()).select_from(UpdateRequestLine).where(UpdateRequestLine.request_id == request.id)
    )
    candidates = session.scalars(
        select(User).where(
            User.company_id == request.company_id, User.active.is_(True),
            User.can_push_to_accounting.is_(True), User.approval_mail != "none", User.id != requester.id,
        ).options(joinedload(User.company))
    )
    from portal.services.approvals import approval_refusal  # approvals imports this module

    digest_at = next_digest_time(utcnow(), int(current_app.config.get("MAIL_DIGEST_HOUR", 7)))
    _insert_once(session, [
        _row(
            request, approver, "approval_wanted", f"approval_wanted:{request.id}:{lines}",
            actor_name=requester.name, digest=approver.approval_mail == "daily",
            **({"next_attempt_at": digest_at} if approver.approval_mail == "daily" else {}),
        )
        for approver in candidates
        if approval_refusal(approver, request) is None  # who may approve: the one rule
    ])


def queue_decision_mail(session: Session, request: CostCodeUpdateRequest, approver: User) -> None:
    """The requester hears that their update was approved or rejected (with the reason)."""
    if not mail_is_on() or request.status not in ("approved", "rejected"):
        return
    requester = session.get(User, request.requested_by_id)
    if requester is None or not requester.active:
        return
    _insert_once(session, [_row(
        request, requester, request.status, f"{request.status}:{request.id}",
        actor_name=approver.name, detail=(request.rejection_reason or "")[:1000],
    )])


def queue_export_failed_mail(session: Session, request_id: int, error: str) -> None:
    """The requester hears that their approved update failed to export (once per request)."""
    if not mail_is_on():
        return
    request = session.get(CostCodeUpdateRequest, request_id)
    requester = session.get(User, request.requested_by_id) if request else None
    if requester is None or not requester.active:
        return
    _insert_once(session, [_row(
        request, requester, "export_failed", f"export_failed:{request.id}", detail=(error or "")[:1000],
    )])


def set_approval_mail(session: Session, user: User, choice: str) -> bool:
    """The user's choice of approval mail (Account → Notifications); returns whether it changed."""
    if choice not in APPROVAL_MAIL_CHOICES:
        raise ServiceError(
            f'"{choice}" is not a choice for approval e-mail ({", ".join(APPROVAL_MAIL_CHOICES)}).'
        )
    with transaction(session):
        user = session.get(User, user.id)
        before = user.approval_mail
        if before == choice:
            return False
        user.approval_mail = choice
        record_event(
            session, company_id=user.company_id, actor=user, action="user.set_approval_mail",
            object_type="user", object_id=user.id, object_label=f"{user.name} <{user.email}>",
            details={"before": APPROVAL_MAIL_CHOICES[before], "after": APPROVAL_MAIL_CHOICES[choice]},
        )
    return True


def undelivered_mail(session: Session, company_id: int, limit: int = 200) -> list[OutgoingMail]:
    """Mail that could not be delivered, and mail still being retried, newest first."""
    return list(session.scalars(
        select(OutgoingMail)
        .where(
            OutgoingMail.company_id == company_id,
            (OutgoingMail.state == "undeliverable")
            | ((OutgoingMail.state == "queued") & (OutgoingMail.attempts > 0)),
        )
        .options(joinedload(OutgoingMail.recipient), joinedload(OutgoingMail.project))
        .order_by(OutgoingMail.created_at.desc(), OutgoingMail.id.desc())
        .limit(limit)
    ))
