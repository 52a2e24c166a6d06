"""Writing audit events: part of the transaction of the change they record."""
from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import insert
from sqlalchemy.orm import Session

from portal.models import AuditEvent, User, utcnow


class RecordedActor(NamedTuple):
    """A user as their audit events name them, for a long task that commits often: a User
    object is expired by every commit and read again from the database at its next event."""

    id: int
    name: str


def recorded_actor(user: User | None) -> RecordedActor | None:
    return None if user is None else RecordedActor(user.id, user.name)


def record_event(session: Session, **fields: Any) -> AuditEvent:
    """One audit event, part of the session's transaction; `fields` as `event_values` takes them."""
    event = AuditEvent(**event_values(**fields))
    session.add(event)
    return event


def event_values(
    *,
    company_id: int,
    actor: User | RecordedActor | None,
    action: str,
    object_type: str,
    object_id: object = "",
    object_label: str = "",
    project_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An audit event's columns (for `record_events`, or one event through `record_event`)."""
    return {
        "company_id": company_id,
        "actor_id": actor.id if actor else None,
        "actor_name": actor.name if actor else "system",
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "object_label": object_label[:255],
        "project_id": project_id,
        "details": details or {},
        "created_at": utcnow(),
    }


def record_events(session: Session, events: list[dict[str, Any]]) -> None:
    """Many events (from `event_values`) in one INSERT: a sync records hundreds at a time."""
    if events:
        session.connection().execute(insert(AuditEvent.__table__), events)
