"""The writing of a refresh plan: a few statements for thousands of codes, in the caller's transaction."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import DateTime, and_, false, func, insert, literal, or_, select, true, update
from sqlalchemy.orm import Session

from portal.db.bulk import slices
from portal.models import ProjectCostCode, StandardCostCode, utcnow
from portal.services.refresh.compare import RefreshPlan

# Bulk statements are cut into pieces of this many rows (SQLite's bound-parameter limit).
WRITE_BATCH = 2000
# Rows to write that are neighbours in their list, this many or more, are named by their first
# and last id (BETWEEN) rather than one by one; at most RANGES_PER_STATEMENT per statement.
RANGE_AT_LEAST = 16
RANGES_PER_STATEMENT = 100


@dataclass
class ListIds:
    """Where the rows named by a plan live: the project's and the company's ids as read, ascending."""

    project_id: int
    company_id: int
    project_ids: list[int]
    company_ids: list[int]


def apply_plan(session: Session, lists: ListIds, plan: RefreshPlan) -> None:
    _add_codes(session, lists, plan.to_add)
    _update_descriptions(session, lists, plan.to_update)
    _set_flags(session, lists, plan.to_flag, True)
    _set_flags(session, lists, plan.to_unflag, False)


def _picking(column, scope, chosen: list[int], ordered_ids: list[int]) -> list:
    """WHERE clauses that between them pick exactly the chosen rows, for one statement each.

    Runs of RANGE_AT_LEAST or more neighbours in ordered_ids (the scope's ids as read, ascending)
    are named by their ends, "scope AND id BETWEEN first AND last" (an empty project's whole list
    is one run); the rest by id, IN batches. A run covers no row but its own: rows created later
    get higher ids. Long IN lists are expensive to render in Python, and a big refresh names
    tens of thousands of mostly neighbouring rows.
    """
    if not chosen:
        return []
    position = {row_id: index for index, row_id in enumerate(ordered_ids)}
    runs: list[list[int]] = []
    for row_id in sorted(chosen, key=position.__getitem__):
        if runs and position[row_id] == position[runs[-1][-1]] + 1:
            runs[-1].append(row_id)
        else:
            runs.append([row_id])
    singles = [row_id for run in runs if len(run) < RANGE_AT_LEAST for row_id in run]
    ranges = [(run[0], run[-1]) for run in runs if len(run) >= RANGE_AT_LEAST]
    clauses = [column.in_(batch) for batch in slices(singles, WRITE_BATCH)]
    for start in range(0, len(ranges), RANGES_PER_STATEMENT):
        clauses.append(and_(scope, or_(*(
            column.between(first, last) for first, last in ranges[start:start + RANGES_PER_STATEMENT]
        ))))
    return clauses


def _add_codes(session: Session, lists: ListIds, standard_ids: list[int]) -> None:
    # INSERT ... SELECT: the database copies the company rows itself; Python only names them,
    # instead of binding one parameter set per code to copy.
    codes = StandardCostCode.__table__.c
    copied = select(
        literal(lists.project_id), codes.id, codes.code, codes.description, codes.division,
        true(), literal("company"), false(), literal(utcnow(), DateTime()),
    )
    target = insert(ProjectCostCode.__table__)
    columns = [
        "project_id", "standard_cost_code_id", "code", "description", "division", "active",
        "origin", "not_in_company_list", "created_at",
    ]
    for clause in _picking(
        codes.id, codes.company_id == lists.company_id, standard_ids, lists.company_ids
    ):
        session.execute(target.from_select(columns, copied.where(clause)))


def _update_descriptions(session: Session, lists: ListIds, ids: list[int]) -> None:
    # Each UPDATE copies the descriptions from the company list in the database (a correlated
    # subquery), instead of an executemany of one parameter set per code.
    mine, company_list = ProjectCostCode.__table__, StandardCostCode.__table__.c
    current = (
        select(company_list.description)
        .where(company_list.company_id == lists.company_id, company_list.code == mine.c.code)
        .scalar_subquery()
    )
    for clause in _picking(
        mine.c.id, mine.c.project_id == lists.project_id, ids, lists.project_ids
    ):
        session.execute(
            update(mine).where(clause)
            # A code dropped from the list meanwhile keeps its description (flagged next time).
            .values(description=func.coalesce(current, mine.c.description))
        )


def _set_flags(session: Session, lists: ListIds, ids: list[int], flagged: bool) -> None:
    mine = ProjectCostCode.__table__
    for clause in _picking(
        mine.c.id, mine.c.project_id == lists.project_id, ids, lists.project_ids
    ):
        session.execute(update(mine).where(clause).values(not_in_company_list=flagged))
