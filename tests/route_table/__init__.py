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
from portal.models import Commitment, ErpJob, StandardCostCode
from tests.helpers import company_by_slug, first_project, user_by_email, waiting_request

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


def _first_standard_cost_code(slug: str) -> int:
    return db.session.scalar(
        select(StandardCostCode.id)
        .where(StandardCostCode.company_id == company_by_slug(slug).id)
        .order_by(StandardCostCode.code)
    )


def _commitment(slug: str) -> int:
    return db.session.scalar(
        select(Commitment.id).where(Commitment.company_id == company_by_slug(slug).id).order_by(Commitment.id)
    )


def _erp_job(slug: str) -> int:
    """An ERP job of the company under Ready to Import (the demo data has none: the sync finds them)."""
    company_id = company_by_slug(slug).id
    job = db.session.scalar(select(ErpJob).where(ErpJob.company_id == company_id, ErpJob.number == "2499"))
    if job is None:
        job = ErpJob(company_id=company_id, number="2499", name="Harbor Road Bridge")
        db.session.add(job)
        db.session.commit()
    return job.id


URL_ARGUMENTS: dict[str, Callable[[], object]] = {
    "project_id": lambda: first_project("ridgeline").id,
    "user_id": lambda: user_by_email("viewer@ridgeline.test").id,
    "filename": lambda: "css/portal.css",
    "standard_cost_code_id": lambda: _first_standard_cost_code("ridgeline"),
    "request_id": lambda: waiting_request("ridgeline").id,
    "commitment_id": lambda: _commitment("ridgeline"),
    "erp_job_id": lambda: _erp_job("ridgeline"),
}

FOREIGN_ARGUMENTS: dict[str, Callable[[], object]] = {
    "project_id": lambda: first_project("harbor-point").id,
    "user_id": lambda: user_by_email("viewer@harborpoint.test").id,
    "standard_cost_code_id": lambda: _first_standard_cost_code("harbor-point"),
    "request_id": lambda: waiting_request("harbor-point").id,
    "commitment_id": lambda: _commitment("harbor-point"),
    "erp_job_id": lambda: _erp_job("harbor-point"),
}
