"""The comparison of a project's Cost Code list with the company list: what a refresh will change.

Pure: it reads plain rows and fills a plan; nothing is written here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from portal.erp.formats import CostCodeFormatError, CostCodeMask, validate_cost_code


@dataclass
class RefreshPlan:
    """What the refresh will write, gathered before the one transaction that writes it."""

    to_add: list[int] = field(default_factory=list)  # ids of the company codes to add
    to_update: list[int] = field(default_factory=list)  # project codes whose description changed
    to_flag: list[int] = field(default_factory=list)
    to_unflag: list[int] = field(default_factory=list)
    unchanged: int = 0
    not_in_company_list: int = 0
    skipped: list[dict] = field(default_factory=list)


def compare_code(
    erp_system: str, standard: tuple, mine: tuple | None, plan: RefreshPlan,
    mask: CostCodeMask | None = None,
) -> None:
    code, description, active, archived, standard_id, invalid_reason = standard
    if mine is None:
        if not active or archived:
            return  # archived and inactive codes are not added to projects that lack them
        if invalid_reason:  # the ERP would refuse it as stored: listed, not added
            plan.skipped.append({"code": code, "reason": invalid_reason})
            return
        if _skipped(erp_system, code, plan, mask):
            return
        plan.to_add.append(standard_id)
        return
    my_id, _, my_description, origin, flagged = mine
    if origin != "company":
        plan.unchanged += 1  # a project-only code is the project's own: untouched
        return
    changed = False
    if flagged:
        plan.to_unflag.append(my_id)  # it is back in the company list
        changed = True
    if my_description != description and not archived:
        if _skipped(erp_system, code, plan, mask):
            return
        plan.to_update.append(my_id)
        changed = True
    if not changed:
        plan.unchanged += 1


def _skipped(erp_system: str, code: str, plan: RefreshPlan, mask: CostCodeMask | None = None) -> bool:
    try:
        validate_cost_code(erp_system, code, mask)
    except CostCodeFormatError as error:
        plan.skipped.append({"code": code, "reason": str(error)})
        return True
    return False
