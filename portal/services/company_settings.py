"""Company settings a Company Admin changes: the time zone times are shown in."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.models import Company, CompanyTool, Level, User
from portal.services import NotFound, PermissionDenied, ServiceError, transaction
from portal.services.audit import record_event
from portal.times import is_time_zone


def set_time_zone(session: Session, company_id: int, name: str, *, actor: User) -> Company:
    """Show the company's times in the zone `name` (an IANA name such as America/Chicago)."""
    if actor.company_id != company_id or actor.tool_level(CompanyTool.COMPANY_ADMIN) < Level.ADMIN:
        raise PermissionDenied("You need Admin on the Company Admin tool to change the time zone.")
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound("That company does not exist.")
    name = (name or "").strip()
    if not is_time_zone(name):
        raise ServiceError(
            f'"{name[:60]}" is not a time zone the portal knows: choose one from the list, '
            "such as America/Chicago."
        )
    with transaction(session):
        previous = company.time_zone
        company.time_zone = name
        record_event(
            session, company_id=company.id, actor=actor, action="company.set_time_zone",
            object_type="company", object_id=company.id, object_label=company.name,
            details={"from": previous, "to": name},
        )
    return company
