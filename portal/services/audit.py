"""Writing audit events: part of the transaction of the change they record."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal.models import AuditEvent, User


def record_event(
    session: Session,
    *,
    company_id: int,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: object = "",
    object_label: str = "",
    project_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        company_id=company_id,
        actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_label=object_label[:255],
        project_id=project_id,
        details=details or {},
    )
    session.add(event)
    return event
