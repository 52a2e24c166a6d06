"""Companies of any size in a few set-based statements: the rows are counted out by a recursive
query in the database itself, so 100,000 projects or 200,000 codes take seconds, not minutes.

Used by the refresh-all figure and the scale curve (bench/generate.py builds the main company).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.generate import BENCH_PASSWORD, START
from portal.config import Config
from portal.models import Company, CostType, Level, User
from portal.passwords import hash_password

# Rows numbered 0 … count-1; the same text runs on SQLite and PostgreSQL.
_NUMBERS = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :count) "


@dataclass
class BulkCompany:
    company_id: int
    admin_id: int
    pm_id: int


def company(session: Session, slug: str, *, changed_at=START) -> BulkCompany:
    """A company with its cost types, an admin of every tool (also the approver) and a PM."""
    made = Company(
        name=f"Bench {slug}", slug=slug, erp_system="sage100c", sync_schedule="never",
        standard_codes_changed_at=changed_at, requester_may_not_approve=False,
    )
    session.add(made)
    session.flush()
    session.add_all(
        CostType(company_id=made.id, code=str(n), name=name)
        for n, name in enumerate(["Material", "Labor", "Equipment", "Subcontract", "Other"], 1)
    )
    password_hash = hash_password(BENCH_PASSWORD, Config.PASSWORD_HASH_METHOD)
    admin = User(
        company_id=made.id, email=f"admin@{slug}.test", name=f"{slug} Admin", password_hash=password_hash,
        erp_integrations_level=Level.ADMIN, company_admin_level=Level.ADMIN, can_push_to_accounting=True,
    )
    pm = User(company_id=made.id, email=f"pm@{slug}.test", name=f"{slug} PM", password_hash=password_hash)
    session.add_all([admin, pm])
    session.flush()
    return BulkCompany(made.id, admin.id, pm.id)


def standard_codes(session: Session, company_id: int, count: int) -> None:
    """`count` distinct Sage-style codes, 1,000 to a division: 1000.000, 1001.000, … (200,000
    codes end at 200999.000, within Sage 100's six whole digits)."""
    session.execute(
        text(
            _NUMBERS  # noqa: S608 (constant text; every value is bound)
            + "INSERT INTO standard_cost_codes (company_id, code, description, division, division_name, "
            "active, archived, updated_at) "
            "SELECT :company, CAST(1000 * (i / 1000 + 1) + i % 1000 AS TEXT) || '.000', "
            "'Cost code ' || CAST(i AS TEXT), CAST(1000 * (i / 1000 + 1) AS TEXT), "
            "'Division ' || CAST(1000 * (i / 1000 + 1) AS TEXT), :yes, :no, :start FROM n"
        ),
        {"count": count, "company": company_id, "yes": True, "no": False, "start": START},
    )


def projects(
    session: Session, company_id: int, count: int, *, first: int = 0, refreshed: bool = True
) -> None:
    """Projects numbered from `first`, linked to ERP jobs; never refreshed unless `refreshed`."""
    session.execute(
        text(
            _NUMBERS  # noqa: S608 (constant text; every value is bound)
            + "INSERT INTO projects (company_id, number, name, erp_job_number, erp_link_state, archived, "
            "cost_codes_refreshed_at, created_at) "
            "SELECT :company, 'S-' || CAST(:first + i AS TEXT), "
            "'Scale project ' || CAST(:first + i AS TEXT), "
            "CAST(100000 + :first + i AS TEXT), 'linked', :no, :refreshed, :start FROM n"
        ),
        {
            "count": count, "company": company_id, "first": first, "no": False, "start": START,
            "refreshed": START if refreshed else None,
        },
    )


def open_requests(session: Session, company_id: int, requester_id: int, every: int) -> None:
    """An update request waiting under Ready to Update for every `every`-th project that has none."""
    session.execute(
        text(
            "INSERT INTO cost_code_update_requests (company_id, project_id, status, requested_by_id, "
            "requested_at) SELECT company_id, id, 'requested', :requester, :start FROM projects "
            "WHERE company_id = :company AND id % :every = 0 AND id NOT IN "
            "(SELECT project_id FROM cost_code_update_requests WHERE company_id = :company)"
        ),
        {"company": company_id, "requester": requester_id, "every": every, "start": START},
    )


def project_admin(session: Session, user_id: int, company_id: int) -> None:
    """The user administers every project of the company (as the refresh asks)."""
    session.execute(
        text(
            "INSERT INTO project_permissions (user_id, project_id, admin_level) "
            "SELECT :user, id, :admin FROM projects WHERE company_id = :company"
        ),
        {"user": user_id, "company": company_id, "admin": int(Level.ADMIN)},
    )
