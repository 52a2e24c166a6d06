"""DESIGN rule 11: an approved request stays findable until it is exported; every project of a
company is under exactly one Jobs filter, whatever happened to it."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import CostCodeUpdateRequest, ErpJob, Project, StandardCostCode, utcnow
from portal.services import erp_job_links as links
from portal.services.approvals import approve_requested_updates, reject_requested_updates
from portal.services.project_cost_codes import add_company_codes_to_project, send_updates_to_erp
from tests.helpers import company_by_slug, cost_type, user_by_email

JOBS = "/erp-integrations/jobs"
FILTERS = {
    "ready_to_import": "Ready to Import",
    "ready_to_export": "Ready to Export",
    "ready_to_update": "Ready to Update",
    "failed_to_export": "Failed to Export",
    "synced": "Synced",
    "archived": "Archived",
}


def _counts_and_lists(client) -> tuple[dict[str, int], dict[str, set[str]]]:
    counts, listed = {}, {}
    for key, label in FILTERS.items():
        page = client.htmx_get(f"{JOBS}?filter={key}").get_data(as_text=True)
        counts[key] = int(re.search(rf'{label} <span class="count">(\d+)</span>', page).group(1))
        table = page.split("</nav>", 1)[1]
        listed[key] = set(re.findall(r'<th scope="row">([^<]+)</th>', table))
    return counts, listed


def assert_every_project_under_exactly_one_filter(client, company_id: int, after: str) -> dict:
    projects = set(db.session.scalars(
        select(Project.number + " " + Project.name).where(Project.company_id == company_id)
    ))
    waiting_jobs = db.session.scalar(
        select(func.count()).select_from(ErpJob).where(
            ErpJob.company_id == company_id, ErpJob.project_id.is_(None), ErpJob.hidden.is_(False)
        )
    )
    counts, listed = _counts_and_lists(client)
    # Ready to Import lists ERP jobs that are not projects yet; the other five, the projects.
    assert sum(counts.values()) == len(projects) + waiting_jobs, (after, counts)
    assert counts["ready_to_import"] == waiting_jobs, (after, counts)
    seen: dict[str, str] = {}
    for key in FILTERS:
        if key == "ready_to_import":
            continue
        assert counts[key] == len(listed[key]), (after, key, counts[key], listed[key])
        for label in listed[key]:
            assert label not in seen, f"after {after}: {label} under {seen.get(label)} and {key}"
            seen[label] = key
    assert set(seen) == projects, (after, projects - set(seen))
    return seen


def _new_codes_sent(project: Project, pm) -> CostCodeUpdateRequest:  # noqa: ANN001
    have = {code.code for code in project.cost_codes}
    standard = db.session.scalar(
        select(StandardCostCode)
        .where(
            StandardCostCode.company_id == project.company_id,
            StandardCostCode.archived.is_(False),
            StandardCostCode.code.not_in(have),
        )
        .order_by(StandardCostCode.id)
    )
    add_company_codes_to_project(db.session, project, pm, {standard.id: {cost_type("1").id}})
    return send_updates_to_erp(db.session, project, pm)


def test_rule_11_every_project_is_under_exactly_one_filter_after_every_kind_of_change(client, auth):
    company = company_by_slug("ridgeline")
    company_id = company.id
    pm = user_by_email("pm@ridgeline.test")
    approver = user_by_email("approver@ridgeline.test")
    admin = user_by_email("admin@ridgeline.test")
    auth.login_as("viewer")
    projects = db.session.scalars(
        select(Project).where(Project.company_id == company_id).order_by(Project.number)
    ).all()
    labels = [project.label for project in projects]
    waiting = db.session.scalars(
        select(CostCodeUpdateRequest)
        .where(CostCodeUpdateRequest.company_id == company_id, CostCodeUpdateRequest.status == "requested")
        .order_by(CostCodeUpdateRequest.id)
    ).all()
    check = lambda after: assert_every_project_under_exactly_one_filter(client, company_id, after)  # noqa: E731
    check("the demo data")

    # Approved: the request stays under Ready to Update until it is exported.
    approve_requested_updates(db.session, waiting[0].id, approver, company_id=company_id)
    approve_requested_updates(db.session, waiting[1].id, admin, company_id=company_id)
    placed = check("two approvals")
    assert placed[waiting[0].project.label] == "ready_to_update"
    assert placed[waiting[1].project.label] == "ready_to_update"

    # Sent again while the approved one waits for the sync: still one project, one row.
    again = _new_codes_sent(waiting[0].project, pm)
    assert again.id != waiting[0].id
    placed = check("a request sent while an approved one waits")
    page = client.htmx_get(f"{JOBS}?filter=ready_to_update").get_data(as_text=True)
    assert f'id="update-request-{waiting[0].id}"' not in page
    assert f'id="update-request-{again.id}"' in page
    assert "An earlier update, approved by Accounting Approver (Ridgeline) at " in page

    # Rejected: the project is back in step with its job.
    reject_requested_updates(db.session, waiting[2].id, approver, "Wrong codes.", company_id=company_id)
    placed = check("a rejection")
    assert placed[waiting[2].project.label] == "synced"

    # Exported and failed, as the sync writes them.
    waiting[1].status, waiting[1].exported_at = "exported", utcnow()
    waiting[0].status, waiting[0].last_error = "failed", "Job 2402 does not exist in the ERP."
    db.session.commit()
    placed = check("an export and a failure")
    assert placed[waiting[1].project.label] == "synced"
    # The failed project has a newer request waiting: the approver's decision comes first.
    assert placed[waiting[0].project.label] == "ready_to_update"
    reject_requested_updates(db.session, again.id, approver, "Later.", company_id=company_id)
    placed = check("the failed project's new request rejected")
    assert placed[waiting[0].project.label] == "failed_to_export"

    # A project without an ERP job: Ready to Export, accepted, rejected, a link error.
    projects[4].erp_link_state, projects[4].erp_job_number = "ready_to_export", None
    projects[5].erp_link_state, projects[5].erp_job_number = "ready_to_export", None
    projects[6].erp_link_state, projects[6].erp_job_number = "ready_to_export", None
    db.session.commit()
    check("projects without an ERP job")
    links.accept_project_for_export(db.session, company_id, projects[4].id, actor=admin)
    links.reject_project_for_export(db.session, company_id, projects[5].id, actor=admin, reason="Duplicate.")
    links.accept_project_for_export(db.session, company_id, projects[6].id, actor=admin)
    projects[6].erp_link_message = "The ERP refused job RB-2407: the number is taken."
    db.session.commit()
    placed = check("an accepted, a rejected and a failed ERP job")
    assert placed[labels[4]] == "ready_to_export" and placed[labels[5]] == "ready_to_export"
    assert placed[labels[6]] == "failed_to_export"

    # Imported from the ERP, and linked to an existing job.
    db.session.add_all([
        ErpJob(company_id=company_id, number="2490", name="Old Mill Lofts"),
        ErpJob(company_id=company_id, number="2491", name="Pier 9"),
    ])
    db.session.commit()
    check("ERP jobs found by the sync")
    job = db.session.scalar(select(ErpJob).where(ErpJob.number == "2490"))
    links.import_erp_job(db.session, company_id, job.id, actor=admin)
    other = db.session.scalar(select(ErpJob).where(ErpJob.number == "2491"))
    links.link_project_to_erp_job(db.session, company_id, projects[5].id, other.id, actor=admin)
    placed = check("an import and a link")
    assert placed["2490 Old Mill Lofts"] == "synced" and placed[labels[5]] == "synced"

    # Archived, whatever else it had.
    projects[0].archived = True
    waiting[0].project.archived = True
    db.session.commit()
    placed = check("two archived projects")
    assert placed[labels[0]] == "archived" and placed[waiting[0].project.label] == "archived"
