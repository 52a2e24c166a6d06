"""Company Admin → ERP Standard Cost Codes: the company list, and archiving codes in it."""
from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from portal.db.search import text_search
from portal.erp.formats import code_order_key, in_code_order
from portal.models import CompanyTool, Level, StandardCostCode, User, utcnow
from portal.services import NotFound, PermissionDenied, transaction
from portal.services.audit import record_event


def standard_cost_codes_query(company_id: int, search: str = "", division: str = "") -> Select:
    query = select(StandardCostCode).where(StandardCostCode.company_id == company_id)
    if search:
        query = query.where(text_search(search, StandardCostCode.code, StandardCostCode.description))
    if division:
        query = query.where(StandardCostCode.division == division)
    return query.order_by(*in_code_order(StandardCostCode.code))


def invalid_code_count(session: Session, company_id: int) -> int:
    """How many codes of the company list the ERP would refuse as stored (see code_format)."""
    return session.scalar(
        select(func.count()).select_from(StandardCostCode).where(
            StandardCostCode.company_id == company_id, StandardCostCode.invalid_reason.is_not(None)
        )
    ) or 0


def company_divisions(session: Session, company_id: int) -> list[tuple[str, str]]:
    """(division, its name) of the company's list, for the division filter."""
    rows = session.execute(
        select(StandardCostCode.division, StandardCostCode.division_name)
        .where(StandardCostCode.company_id == company_id)
        .distinct()
    )
    # Sage 100 divisions are numbers kept as text: 2000 before 10000.
    return sorted(rows, key=lambda row: code_order_key(row[0]))


def company_standard_cost_code(session: Session, company_id: int, code_id: int) -> StandardCostCode:
    code = session.get(StandardCostCode, code_id)
    if code is None or code.company_id != company_id:
        raise NotFound("That cost code does not exist, or is not part of your company.")
    return code


def set_standard_cost_code_archived(
    session: Session, *, actor: User, standard_cost_code_id: int, archived: bool
) -> StandardCostCode:
    """Archive a code (it can no longer be added to projects) or bring it back."""
    if actor.tool_level(CompanyTool.COMPANY_ADMIN) < Level.ADMIN:
        raise PermissionDenied("You need Admin on the Company Admin tool to archive cost codes.")
    with transaction(session):
        code = company_standard_cost_code(session, actor.company_id, standard_cost_code_id)
        if code.archived == archived:
            return code
        code.archived = archived
        # Projects compare their last refresh with this to tell whether they lag behind.
        actor.company.standard_codes_changed_at = utcnow()
        record_event(
            session, company_id=code.company_id, actor=actor,
            action="standard_cost_code.archive" if archived else "standard_cost_code.unarchive",
            object_type="standard_cost_code", object_id=code.id,
            object_label=f"{code.code} {code.description}",
            details={"before": "Archived" if not archived else "Not archived",
                     "after": "Archived" if archived else "Not archived"},
        )
    return code
