"""What Add on Cost Codes from Company would add: the selection, kept across pages and searches,
read back as the codes it adds (with their cost types) and those it would refuse, and why.

The rules are those of add_company_codes_to_project (same refusals, same order); nothing is
written.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.erp.formats import code_order_key
from portal.models import Project, StandardCostCode
from portal.services import ServiceError
from portal.services.project_cost_codes import _company_cost_types, _unaddable_reason, code_label


@dataclass
class SelectionPreview:
    # ("3010.000 Formwork", ["1 Material", "2 Labor"]) for each code Add would add
    to_add: list[tuple[str, list[str]]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "3020.000 Reinforcing Steel: choose …"

    @property
    def count(self) -> int:
        return len(self.to_add) + len(self.refused)


def preview_selection(
    session: Session, project: Project, selections: dict[int, set[int]]
) -> SelectionPreview:
    preview = SelectionPreview()
    if not selections:
        return preview
    standards = list(session.scalars(
        select(StandardCostCode).where(
            StandardCostCode.company_id == project.company_id, StandardCostCode.id.in_(selections)
        )
    ))
    unknown = sorted(set(selections) - {standard.id for standard in standards})
    if unknown:
        raise ServiceError(
            f"Cost code #{unknown[0]} is not in {project.company.name}'s company list; "
            "reload the page and choose from the list."
        )
    cost_types = _company_cost_types(session, project, set().union(*selections.values()))
    for standard in sorted(standards, key=lambda standard: code_order_key(standard.code)):
        reason = _unaddable_reason(standard)
        if reason:
            preview.refused.append(f"{code_label(standard)} {reason}")
        elif not selections[standard.id]:
            preview.refused.append(f"{code_label(standard)}: choose at least one cost type")
        else:
            chosen = sorted((cost_types[cost_type_id] for cost_type_id in selections[standard.id]),
                            key=lambda cost_type: code_order_key(cost_type.code))
            preview.to_add.append((code_label(standard), [cost_type.label for cost_type in chosen]))
    return preview
