"""A deterministic company at scale, written with set-based inserts (the portal's own tables).

Full size: 10,000 projects (each with an ERP job), 20,000 standard cost codes, 5 cost types,
300 open update requests of 50 lines and one of 2,000 lines, 50,000 audit events; every other
project already has `codes_on_job` codes on its ERP job (an exported cost type each), as a
company that has used the portal for a while.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from portal.config import Config
from portal.models import (
    AuditEvent,
    Company,
    CostCodeUpdateRequest,
    CostType,
    CostTypeAssignment,
    Level,
    Project,
    ProjectCostCode,
    ProjectPermission,
    StandardCostCode,
    UpdateRequestLine,
    User,
)
from portal.passwords import hash_password

BENCH_PASSWORD = "bench-password"
START = datetime(2026, 1, 5, 8, 0, 0)
CHUNK = 5_000


@dataclass(frozen=True)
class Scale:
    projects: int = 10_000
    standard_codes: int = 20_000
    requests: int = 300
    lines_per_request: int = 50
    big_request_lines: int = 2_000
    audit_events: int = 50_000
    codes_on_job: int = 20

    @classmethod
    def quick(cls) -> Scale:
        return cls(
            projects=1_000,
            standard_codes=4_000,
            requests=60,
            lines_per_request=20,
            big_request_lines=2_000,
            audit_events=5_000,
            codes_on_job=5,
        )


@dataclass
class Generated:
    company_id: int
    approver_id: int
    pm_id: int
    big_request_id: int
    empty_project_id: int
    up_to_date_project_id: int
    request_ids: list[int]


def _insert(session: Session, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[start : start + CHUNK])


def _project_code(project_id: int, standard) -> dict:
    """A project cost code taken from the company list."""
    return {
        "project_id": project_id,
        "standard_cost_code_id": standard.id,
        "code": standard.code,
        "description": standard.description,
        "division": standard.division,
        "active": True,
        "origin": "company",
        "not_in_company_list": False,
        "created_at": START,
    }


def sage100_code(index: int) -> tuple[str, str]:
    """20,000 distinct codes: 100 divisions of 200 codes, 1000.000 … 100995.000."""
    division = 1000 * (index // 200 + 1)
    return f"{division + (index % 200) * 5}.000", str(division)


def generate(session: Session, scale: Scale, seed: int = 2026) -> Generated:
    rng = random.Random(seed)
    company = Company(
        name="Bench Builders",
        slug="bench",
        erp_system="sage100c",
        sync_schedule="never",
        standard_codes_changed_at=START,
    )
    session.add(company)
    session.flush()
    cost_types = [
        CostType(company_id=company.id, code=str(n), name=name)
        for n, name in enumerate(["Material", "Labor", "Equipment", "Subcontract", "Other"], 1)
    ]
    session.add_all(cost_types)
    password_hash = hash_password(BENCH_PASSWORD, Config.PASSWORD_HASH_METHOD)
    approver = User(
        company_id=company.id,
        email="approver@bench.test",
        name="Bench Approver",
        password_hash=password_hash,
        erp_integrations_level=Level.ADMIN,
        company_admin_level=Level.ADMIN,
        can_push_to_accounting=True,
    )
    pm = User(company_id=company.id, email="pm@bench.test", name="Bench PM", password_hash=password_hash)
    session.add_all([approver, pm])
    session.flush()

    _insert(
        session,
        StandardCostCode,
        [
            {
                "company_id": company.id,
                "code": code,
                "description": f"Cost code {i:05d}",
                "division": division,
                "division_name": f"Division {division}",
                "active": True,
                "archived": False,
                "updated_at": START,
            }
            for i in range(scale.standard_codes)
            for code, division in [sage100_code(i)]
        ],
    )
    _insert(
        session,
        Project,
        [
            {
                "company_id": company.id,
                "number": f"B-{i:05d}",
                "name": f"Bench project {i:05d}",
                "erp_job_number": f"{10000 + i}",
                "erp_link_state": "linked",
                "archived": i % 97 == 0,
                "cost_codes_refreshed_at": START,
                "created_at": START,
            }
            for i in range(scale.projects)
        ],
    )
    project_ids = list(
        session.scalars(select(Project.id).where(Project.company_id == company.id).order_by(Project.number))
    )
    standard = list(
        session.execute(
            select(
                StandardCostCode.id,
                StandardCostCode.code,
                StandardCostCode.description,
                StandardCostCode.division,
            )
            .where(StandardCostCode.company_id == company.id)
            .order_by(StandardCostCode.code)
        )
    )
    # The PM administers a few projects, among them the two the refresh figures use.
    _insert(
        session,
        ProjectPermission,
        [
            {"user_id": pm.id, "project_id": project_id, "admin_level": Level.ADMIN}
            for project_id in project_ids[:5] + project_ids[-2:]
        ],
    )

    # Open requests: the first `requests` projects ask for lines_per_request new codes each,
    # and one more project asks for big_request_lines.
    requesting = project_ids[1 : scale.requests + 2]
    sizes = [scale.lines_per_request] * scale.requests + [scale.big_request_lines]
    request_rows = [
        {
            "company_id": company.id,
            "project_id": project_id,
            "status": "requested",
            "requested_by_id": pm.id,
            "requested_at": START + timedelta(minutes=n),
        }
        for n, project_id in enumerate(requesting)
    ]
    _insert(session, CostCodeUpdateRequest, request_rows)
    request_ids = list(
        session.scalars(
            select(CostCodeUpdateRequest.id)
            .where(CostCodeUpdateRequest.company_id == company.id)
            .order_by(CostCodeUpdateRequest.requested_at)
        )
    )

    code_rows, assignment_rows, line_rows = [], [], []
    for project_id, size in zip(requesting, sizes, strict=True):
        for row in rng.sample(standard, size):
            code_rows.append(_project_code(project_id, row))
    _insert(session, ProjectCostCode, code_rows)
    codes = session.execute(
        select(
            ProjectCostCode.id,
            ProjectCostCode.project_id,
            ProjectCostCode.code,
            ProjectCostCode.description,
            ProjectCostCode.division,
        ).where(ProjectCostCode.project_id.in_(requesting))
    )
    request_by_project = dict(zip(requesting, request_ids, strict=True))
    codes = list(codes)
    for code in codes:
        cost_type = cost_types[code.id % len(cost_types)]
        assignment_rows.append(
            {
                "project_cost_code_id": code.id,
                "cost_type_id": cost_type.id,
                "erp_state": "requested",
                "created_at": START,
            }
        )
    _insert(session, CostTypeAssignment, assignment_rows)
    assignment_by_code = dict(
        session.execute(
            select(CostTypeAssignment.project_cost_code_id, CostTypeAssignment.id)
            .join(ProjectCostCode)
            .where(ProjectCostCode.project_id.in_(requesting))
        ).all()
    )
    type_code = {cost_type.id: cost_type.code for cost_type in cost_types}
    for code in codes:
        cost_type = cost_types[code.id % len(cost_types)]
        line_rows.append(
            {
                "request_id": request_by_project[code.project_id],
                "project_cost_code_id": code.id,
                "assignment_id": assignment_by_code[code.id],
                "code": code.code,
                "description": code.description,
                "division": code.division,
                "cost_type_code": type_code[cost_type.id],
                "change": "new_code",
                "export_state": "pending",
            }
        )
    _insert(session, UpdateRequestLine, line_rows)

    # The refresh figures: one project with no codes, one already holding the whole list.
    empty_project_id, up_to_date_project_id = project_ids[-2], project_ids[-1]
    _insert(
        session,
        ProjectCostCode,
        [_project_code(up_to_date_project_id, row) for row in standard],
    )

    # The codes every other project already has on its job, exported: the bulk of a real
    # company's assignments, which queries for one request or project must not wade through.
    settled = project_ids[scale.requests + 2 : -2]
    _insert(
        session,
        ProjectCostCode,
        [
            _project_code(project_id, row)
            for n, project_id in enumerate(settled)
            for row in standard[n % 50 * scale.codes_on_job :][: scale.codes_on_job]
        ],
    )
    settled_codes = (
        session.scalars(
            # The settled projects' ids run without a gap: they were inserted in this order.
            select(ProjectCostCode.id).where(ProjectCostCode.project_id.between(settled[0], settled[-1]))
        ).all()
        if settled
        else []
    )
    _insert(
        session,
        CostTypeAssignment,
        [
            {
                "project_cost_code_id": code_id,
                "cost_type_id": cost_types[code_id % len(cost_types)].id,
                "erp_state": "exported",
                "created_at": START,
            }
            for code_id in settled_codes
        ],
    )

    actions = ["user.login", "cost_code_update.request", "cost_code_update.approve", "project.refresh"]
    _insert(
        session,
        AuditEvent,
        [
            {
                "company_id": company.id,
                "actor_id": pm.id,
                "actor_name": "Bench PM",
                "action": actions[i % 4],
                "object_type": "project",
                "object_id": str(project_ids[i % len(project_ids)]),
                "object_label": "",
                "project_id": project_ids[i % len(project_ids)],
                "details": {},
                "created_at": START + timedelta(seconds=i),
            }
            for i in range(scale.audit_events)
        ],
    )
    session.commit()
    return Generated(
        company_id=company.id,
        approver_id=approver.id,
        pm_id=pm.id,
        big_request_id=request_ids[-1],
        empty_project_id=empty_project_id,
        up_to_date_project_id=up_to_date_project_id,
        request_ids=request_ids,
    )
