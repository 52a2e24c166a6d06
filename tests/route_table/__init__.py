"""The route sweep's table: for every URL rule, what each role gets.

Each blueprint has its own module here (`auth.py`, `company_admin.py`, …) with a ROUTES dict:
endpoint -> Route(method, expect). A route the app has but no module lists fails the sweep, so
a new route cannot ship without saying who may use it.

`expect` maps a role ("anonymous", "admin", "approver", "accountant", "viewer", "pm": the
Ridgeline demo accounts) to the status code that role must get. POST routes are sent with a
valid CSRF token and no other data; the status is what an empty form gets.

URL_ARGUMENTS says how to fill each URL argument with a Ridgeline object, FOREIGN_ARGUMENTS
with a Harbor Point one (a foreign id must be a 404 for every Ridgeline user).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from portal.extensions import db
from portal.models import Commitment, Company, CostCodeUpdateRequest, Project, StandardCostCode, User

ROLES = ["anonymous", "admin", "approver", "accountant", "viewer", "pm"]


@dataclass(frozen=True)
class Route:
    method: str
    expect: dict[str, int]
    # URL arguments that are not object ids (filter names and the like) and their values
    fixed_args: dict[str, object] = field(default_factory=dict)


def every(status: int, anonymous: int = 302, **overrides: int) -> dict[str, int]:
    table = dict.fromkeys(ROLES, status)
    table["anonymous"] = anonymous
    table.update(overrides)
    return table


def _company(slug: str) -> Company:
    return db.session.scalar(select(Company).where(Company.slug == slug))


def _first_project(slug: str) -> int:
    return db.session.scalar(
        select(Project.id).where(Project.company_id == _company(slug).id).order_by(Project.number)
    )


def _first_standard_cost_code(slug: str) -> int:
    return db.session.scalar(
        select(StandardCostCode.id)
        .where(StandardCostCode.company_id == _company(slug).id)
        .order_by(StandardCostCode.code)
    )


def _user(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


def _waiting_request(slug: str) -> int:
    return db.session.scalar(
        select(CostCodeUpdateRequest.id)
        .join(CostCodeUpdateRequest.project)
        .where(
            CostCodeUpdateRequest.company_id == _company(slug).id,
            CostCodeUpdateRequest.status == "requested",
        )
        .order_by(Project.number)
    )


def _commitment(slug: str) -> int:
    return db.session.scalar(
        select(Commitment.id).where(Commitment.company_id == _company(slug).id).order_by(Commitment.id)
    )


URL_ARGUMENTS: dict[str, Callable[[], object]] = {
    "project_id": lambda: _first_project("ridgeline"),
    "user_id": lambda: _user("viewer@ridgeline.test"),
    "filename": lambda: "css/portal.css",
    "standard_cost_code_id": lambda: _first_standard_cost_code("ridgeline"),
    "request_id": lambda: _waiting_request("ridgeline"),
    "commitment_id": lambda: _commitment("ridgeline"),
}

FOREIGN_ARGUMENTS: dict[str, Callable[[], object]] = {
    "project_id": lambda: _first_project("harbor-point"),
    "user_id": lambda: _user("viewer@harborpoint.test"),
    "standard_cost_code_id": lambda: _first_standard_cost_code("harbor-point"),
    "request_id": lambda: _waiting_request("harbor-point"),
    "commitment_id": lambda: _commitment("harbor-point"),
}
