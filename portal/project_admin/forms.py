"""Forms of the project Admin tool.

The Cost Codes from Company form has one checkbox per listed code and cost type, so it is read
from the posted fields directly; a value that is not an id (a tampered form) is refused naming it.
"""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

CODE_FIELD = "code"  # value: a StandardCostCode id
CODE_COST_TYPE_PREFIX = "cost_type_"  # cost_type_<StandardCostCode id>, value: a CostType id
EVERY_CODE_COST_TYPE_FIELD = "every_code_cost_type"  # cost types for every selected code


class FormError(ValueError):
    """A posted value this form never offers; the message names it."""


def posted_id(value: str, what: str) -> int:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        shown = value if len(value) <= 40 else value[:39] + "…"
        raise FormError(f'"{shown}" is not a {what}; reload the page and choose from the list.')
    return int(value)


def company_code_selections(form: MultiDict) -> dict[int, set[int]]:
    """Maps each chosen company code to its cost types.

    A code is chosen when its own box is ticked or one of its cost types is; the cost types
    ticked for every selected code are added to each code's own.
    """
    every_code = {
        posted_id(value, "cost type") for value in form.getlist(EVERY_CODE_COST_TYPE_FIELD)
    }
    selections: dict[int, set[int]] = {
        posted_id(value, "cost code"): set(every_code) for value in form.getlist(CODE_FIELD)
    }
    for name in form:
        if not name.startswith(CODE_COST_TYPE_PREFIX):
            continue
        code_id = posted_id(name.removeprefix(CODE_COST_TYPE_PREFIX), "cost code")
        own = {posted_id(value, "cost type") for value in form.getlist(name)}
        selections.setdefault(code_id, set(every_code)).update(own)
    return selections


def cost_type_choice(form: MultiDict) -> tuple[int, int, bool]:
    """The Cost Code table's cost type checkbox: (project cost code id, cost type id, ticked)."""
    return (
        posted_id(form.get("cost_code", ""), "cost code"),
        posted_id(form.get("cost_type", ""), "cost type"),
        form.get("assigned") == "yes",
    )


def chosen_cost_code(form: MultiDict) -> int:
    """A row action's cost code (Remove, Make inactive): a project cost code id."""
    return posted_id(form.get("cost_code", ""), "cost code")
