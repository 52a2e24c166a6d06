"""The route sweep's table: for every URL rule, what each role gets.

Each blueprint has its own module here (`auth.py`, `company_admin.py`, …) with a ROUTES dict:
endpoint -> Route(method, expect). A route the app has but no module lists fails the sweep, so
a new route cannot ship without saying who may use it.

`expect` maps a role ("anonymous", "admin", "approver", "accountant", "viewer", "pm": the
Ridgeline demo accounts) to the status code that role must get. POST routes are sent with a
valid CSRF token and no other data; the status is what an empty form gets.

The same table holds for the same role of either demo company (Harbor Point's accounts have the
Ridgeline ones' levels): the sweep tries it as each, with that company's own ids, and a foreign id
must be a 404 both ways. URL_ARGUMENTS fills each URL argument with a Ridgeline object,
FOREIGN_ARGUMENTS with a Harbor Point one; company_arguments() does it for any company.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from portal.extensions import db
from portal.models import Commitment, DifferenceKind, ErpDifference, ErpJob, StandardCostCode
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


def _difference(slug: str) -> int:
    """A difference of the company's first project (the demo projects match their ERP jobs): a
    description one, which neither Send to ERP nor Add to project acts on, so every role's answer
    is the same whichever ran first."""
    project = first_project(slug)
    row = db.session.scalar(select(ErpDifference).where(ErpDifference.project_id == project.id))
    if row is None:
        row = ErpDifference(
            company_id=project.company_id, project_id=project.id, job_number=project.erp_job_number,
            kind=DifferenceKind.DESCRIPTION, code="1010.000", project_description="Portal text",
            erp_description="ERP text",
        )
        db.session.add(row)
        db.session.commit()
    return row.id


def company_arguments(slug: str, domain: str) -> dict[str, Callable[[], object]]:
    """How to fill each URL argument with an object of the company `slug` (users at `domain`)."""
    return {
        "project_id": lambda: first_project(slug).id,
        "user_id": lambda: user_by_email(f"viewer@{domain}").id,
        "filename": lambda: "css/portal.css",
        "standard_cost_code_id": lambda: _first_standard_cost_code(slug),
        "request_id": lambda: waiting_request(slug).id,
        "commitment_id": lambda: _commitment(slug),
        "erp_job_id": lambda: _erp_job(slug),
        "difference_id": lambda: _difference(slug),
    }


# The demo companies: slug -> the domain of its users' e-mails. Both have the same roles.
COMPANIES = {"ridgeline": "ridgeline.test", "harbor-point": "harborpoint.test"}

URL_ARGUMENTS = company_arguments("ridgeline", "ridgeline.test")

# Arguments that name an object of a company (a foreign one must be a 404).
OBJECT_ARGUMENTS = frozenset(URL_ARGUMENTS) - {"filename"}

FOREIGN_ARGUMENTS = {
    name: fill for name, fill in company_arguments("harbor-point", "harborpoint.test").items()
    if name in OBJECT_ARGUMENTS
}
