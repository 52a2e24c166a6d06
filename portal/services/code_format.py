"""Company Admin → ERP Standard Cost Codes → Cost code format: the Sage 300 CRE cost code mask
(when no connector reads it from the ERP), the Sage 100 Contractor file connector's import file
type, and marking stored codes the ERP would refuse as invalid (kept, never deleted)."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import ColumnElement, or_, select, true, update
from sqlalchemy.orm import Session

from portal.erp import formats
from portal.erp.base import FORMAT_ERRORS
from portal.erp.sage100_import import FILE_TYPES
from portal.models import Company, CompanyTool, Level, StandardCostCode, User
from portal.services import PermissionDenied, ServiceError, transaction
from portal.services.audit import record_event


def _require_admin(actor: User, what: str) -> None:
    if actor.tool_level(CompanyTool.COMPANY_ADMIN) < Level.ADMIN:
        raise PermissionDenied(f"You need Admin on the Company Admin tool to change {what}.")


def set_cost_code_mask(session: Session, *, actor: User, mask_text: str) -> tuple[Company, int]:
    """Set (or, with an empty text, clear) the company's Sage 300 CRE cost code mask and mark
    every stored code that does not fit it as invalid (and clear the mark from codes that do).
    Returns the company and how many of its codes are invalid now."""
    _require_admin(actor, "the cost code mask")
    company = actor.company
    if company.erp_system != formats.SAGE300:
        raise ServiceError(
            f"{company.name} keeps its books in {company.erp_name}, which has no cost code mask."
        )
    try:
        mask = formats.parse_mask(mask_text)
    except formats.MaskError as error:
        raise ServiceError(f"{error} Nothing was changed.") from None
    with transaction(session):
        previous = company.cost_code_mask
        company.cost_code_mask = None if mask is None else str(mask)
        invalid = recheck_standard_codes(session, company)
        record_event(
            session, company_id=company.id, actor=actor, action="company.cost_code_mask",
            object_type="company", object_id=company.id, object_label=company.name,
            details={"from": previous or "none", "to": company.cost_code_mask or "none",
                     "invalid_codes": invalid},
        )
    return company, invalid


def set_sage100_file_type(session: Session, *, actor: User, file_type: str) -> Company:
    """Which Sage 100 Contractor import file type the file connector writes."""
    _require_admin(actor, "the import file type")
    company = actor.company
    if company.erp_system != formats.SAGE100:
        raise ServiceError(f"{company.name} keeps its books in {company.erp_name}, not Sage 100 Contractor.")
    if file_type not in FILE_TYPES:
        raise ServiceError(
            f'"{formats.shown(file_type or "")}" is not a Sage 100 Contractor import file type; '
            f"choose one of {', '.join(FILE_TYPES)}. Nothing was changed."
        )
    with transaction(session):
        previous = company.sage100_file_type
        company.sage100_file_type = file_type
        record_event(
            session, company_id=company.id, actor=actor, action="company.sage100_file_type",
            object_type="company", object_id=company.id, object_label=company.name,
            details={"from": FILE_TYPES.get(previous, previous), "to": FILE_TYPES[file_type]},
        )
    return company


def recheck_standard_codes(session: Session, company: Company) -> int:
    """Check every stored code of the company against its ERP's rules (and mask) now; part of
    the caller's transaction. Returns how many are invalid."""
    mask = company.mask

    def reason_of(code: str, description: str) -> str | None:
        try:
            formats.validate_cost_code(company.erp_system, code, mask)
            formats.validate_description(company.erp_system, description)
        except FORMAT_ERRORS as error:
            return str(error)
        return None

    return _mark(session, company.id, reason_of)


def mark_invalid_standard_codes(session: Session, company_id: int, reasons: Mapping[str, str]) -> int:
    """After a pull from the ERP: stored codes the ERP listed in a form it would refuse carry
    that reason; every other stored code is valid. Part of the caller's transaction."""
    # Only the codes marked now or before can change: a sync every few minutes need not read the
    # whole list (a few thousand names fit in one statement; more, and the list is read).
    marked = StandardCostCode.invalid_reason.is_not(None)
    named = StandardCostCode.code.in_(list(reasons)) if len(reasons) <= _NAMED_AT_MOST else true()
    return _mark(session, company_id, lambda code, _description: reasons.get(code), or_(marked, named))


_NAMED_AT_MOST = 5000


def _mark(
    session: Session, company_id: int, reason_of: Callable[[str, str], str | None],
    only: ColumnElement[bool] | None = None,
) -> int:
    # Plain rows: a company's list holds tens of thousands of codes, nearly all unchanged.
    rows = session.execute(
        select(
            StandardCostCode.id, StandardCostCode.code, StandardCostCode.description,
            StandardCostCode.invalid_reason,
        ).where(StandardCostCode.company_id == company_id, true() if only is None else only)
    ).all()
    changed = []
    invalid = 0
    for code_id, code, description, stored_reason in rows:
        reason = reason_of(code, description)
        if reason is not None:
            reason = reason[:500]
            invalid += 1
        if reason != stored_reason:
            changed.append({"id": code_id, "invalid_reason": reason})
    if changed:
        session.execute(update(StandardCostCode), changed)
    return invalid
