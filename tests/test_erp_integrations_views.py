"""ERP Integrations → Jobs and Commitments as the approver, the viewer and the others see them."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser

import pytest
from flask import g
from sqlalchemy import event, func, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Commitment,
    CostCodeUpdateRequest,
    CostTypeAssignment,
    ErpJob,
    Project,
    UpdateRequestLine,
)
from tests.helpers import (
    audit_count,
    commitment_of,
    company_by_slug,
    first_project,
    user_by_email,
    waiting_request,
    window_url,
)

JOBS = "/erp-integrations/jobs"


def update_url(request) -> str:
    return f"/erp-integrations/requests/{request.id}/update"


def reject_url(request) -> str:
    return f"/erp-integrations/requests/{request.id}/reject"


class Elements(HTMLParser):
    """The tags of a page with their attributes, to check what a user could interact with."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


# --- The Jobs tab and its filters ---


def test_jobs_tab_shows_every_filter_with_its_count_and_ready_to_update_first(client, auth):
    auth.login_as("approver")
    page = client.get(JOBS).get_data(as_text=True)
    assert "<title>ERP Integration · Cost Code Portal</title>" in page
    for label in (
        "Ready to Import",
        "Ready to Export",
        "Ready to Update",
        "Failed to Export",
        "Synced",
        "Archived",
    ):
        assert re.search(rf'{label} <span class="count">\d+</span>', page), label
    assert re.search(r'aria-current="true">Ready to Update <span class="count">3</span>', page)
    assert 'Synced <span class="count">5</span>' in page
    assert page.count("View Requested Updates<") == 3
    assert "RB-2402 Cedar Ridge Elementary" in page and "Project Manager (Ridgeline)" in page


def test_ready_to_update_row_shows_when_it_was_requested_to_the_minute_in_utc(client, auth):
    request = waiting_request("ridgeline")
    request.requested_at = datetime(2026, 3, 9, 7, 5, 59, 999999)
    db.session.commit()
    auth.login_as("approver")
    page = client.get(JOBS).get_data(as_text=True)
    row = page[page.index(f'id="update-request-{request.id}"') :]
    row = row[: row.index("</tr>")]
    assert "<td>2026-03-09 07:05 UTC</td>" in row


def test_filter_switches_the_table_with_htmx_and_can_be_bookmarked(client, auth):
    auth.login_as("viewer")
    full = client.get(f"{JOBS}?filter=synced").get_data(as_text=True)
    assert full.startswith("<!doctype html>")
    assert 'aria-current="true">Synced' in full and "RB-2401 Maple Street Medical Office" in full
    partial = client.htmx_get(f"{JOBS}?filter=synced").get_data(as_text=True)
    assert "<html" not in partial and 'aria-current="true">Synced' in partial
    assert 'hx-push-url="true"' in partial
    table = client.htmx_get(f"{JOBS}?filter=synced&q=maple", headers={"HX-Target": "jobs-table"})
    text = table.get_data(as_text=True)
    assert "RB-2401 Maple Street" in text and "RB-2405" not in text and "Filters" not in text


def test_unknown_filter_falls_back_to_ready_to_update(client, auth):
    auth.login_as("viewer")
    page = client.get(f"{JOBS}?filter=%3Cscript%3E").get_data(as_text=True)
    assert 'aria-current="true">Ready to Update' in page and "<script>" not in page


def test_other_filters_list_their_projects_and_jobs(client, auth):
    company = company_by_slug("ridgeline")
    projects = db.session.scalars(
        select(Project).where(Project.company_id == company.id).order_by(Project.number)
    ).all()
    projects[5].archived = True
    projects[6].erp_link_state = "ready_to_export"
    projects[7].erp_link_message = "The ERP refused job 2408: the job number is taken."
    db.session.add(ErpJob(company_id=company.id, number="2499", name="Old Mill Lofts"))
    db.session.add(ErpJob(company_id=company.id, number="2498", name="Hidden job", hidden=True))
    request = waiting_request()
    request.status = "failed"
    request.last_error = "The ERP was not reachable."
    db.session.commit()
    auth.login_as("viewer")
    expectations = {
        "ready_to_import": ("Old Mill Lofts", "Hidden job"),
        "ready_to_export": (projects[6].label, projects[0].label),
        "failed_to_export": ("The ERP was not reachable.", projects[0].label),
        "archived": (projects[5].label, projects[0].label),
        "synced": (projects[0].label, projects[5].label),
    }
    for key, (shown, not_shown) in expectations.items():
        page = client.htmx_get(f"{JOBS}?filter={key}").get_data(as_text=True)
        assert shown in page, key
        assert not_shown not in page.split("</nav>", 1)[1], key
    failed = client.htmx_get(f"{JOBS}?filter=failed_to_export").get_data(as_text=True)
    assert "the job number is taken" in failed
    assert 'Failed to Export <span class="count">2</span>' in failed
    assert 'Ready to Import <span class="count">1</span>' in failed
    assert 'Ready to Update <span class="count">2</span>' in failed


def test_each_filter_count_is_the_number_of_projects_it_lists(client, auth):
    # The counts are computed apart from the lists (for speed); a search makes the list count
    # its own rows, so the two must agree in every state a project can be in.
    company = company_by_slug("ridgeline")
    projects = db.session.scalars(
        select(Project).where(Project.company_id == company.id).order_by(Project.number)
    ).all()
    projects[0].archived = True
    projects[7].erp_link_state = "ready_to_export"
    projects[2].erp_link_message = "The ERP refused the job: the job number is taken."
    projects[3].erp_link_state = "rejected"
    projects[3].erp_link_message = "Use the existing job."
    pm = user_by_email("pm@ridgeline.test")
    for project, status in ((projects[4], "failed"), (projects[5], "approved"), (projects[6], "exported")):
        db.session.add(
            CostCodeUpdateRequest(
                company_id=company.id, project_id=project.id, requested_by_id=pm.id, status=status
            )
        )
    db.session.commit()
    auth.login_as("viewer")
    for key, label in (
        ("ready_to_export", "Ready to Export"),
        ("ready_to_update", "Ready to Update"),
        ("failed_to_export", "Failed to Export"),
        ("synced", "Synced"),
        ("archived", "Archived"),
    ):
        page = client.htmx_get(f"{JOBS}?filter={key}&q=RB-").get_data(as_text=True)
        counted = int(re.search(rf'{label} <span class="count">(\d+)</span>', page).group(1))
        listed = re.search(r"(\d+) in all", page)
        assert counted == (int(listed.group(1)) if listed else 0), key
        assert counted > 0, key


def _add_requests(count: int) -> None:
    company = company_by_slug("ridgeline")
    pm = user_by_email("pm@ridgeline.test")
    for number in range(count):
        project = Project(
            company_id=company.id,
            number=f"ZZ-{number:04d}",
            name=f"Bench {number}",
            erp_job_number=f"9{number:04d}",
            erp_link_state="linked",
        )
        db.session.add(project)
        db.session.flush()
        db.session.add(
            CostCodeUpdateRequest(company_id=company.id, project_id=project.id, requested_by_id=pm.id)
        )
    db.session.commit()


def _fresh_request_state() -> None:
    # The tests share one app context across requests: start each request as a new one would.
    db.session.expire_all()
    g.pop("_login_user", None)


def _statements_for(client, url: str) -> list[str]:
    statements: list[str] = []
    _fresh_request_state()

    def count(*_args):
        if not _args[2].startswith("BEGIN"):
            statements.append(_args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return statements


def test_failed_to_export_counts_each_project_once_and_only_real_link_errors(client, auth):
    company = company_by_slug("ridgeline")
    projects = db.session.scalars(
        select(Project).where(Project.company_id == company.id).order_by(Project.number)
    ).all()
    pm = user_by_email("pm@ridgeline.test")
    # A failed request and a link error on the same project: one project, counted once.
    projects[0].erp_link_message = "The ERP refused the job: the job number is taken."
    for status in ("failed", "failed"):
        db.session.add(
            CostCodeUpdateRequest(
                company_id=company.id, project_id=projects[0].id, requested_by_id=pm.id, status=status
            )
        )
    projects[1].erp_link_message = ""  # no message
    projects[2].erp_link_state = "rejected"  # the approver's reason, not a failure
    projects[2].erp_link_message = "Use the existing job."
    projects[4].erp_link_state = "ready_to_export"  # a failure before the job exists
    projects[4].erp_link_message = "The ERP was not reachable."
    db.session.commit()
    auth.login_as("viewer")
    page = client.htmx_get(f"{JOBS}?filter=failed_to_export").get_data(as_text=True)
    assert 'Failed to Export <span class="count">2</span>' in page
    listed = page.split("</nav>", 1)[1]
    assert projects[0].label in listed and projects[4].label in listed
    assert projects[1].label not in listed and projects[2].label not in listed


def test_jobs_tab_counts_and_page_read_indexes_not_every_project(app):
    # At 10,000 projects a filter that tests every project costs more than the whole page:
    # Failed to Export must come from the partial index, Ready to Update's page from the
    # (company, status, requested_at) index in order, without sorting.
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plans")
    from portal.erp_integrations.jobs import counts_query, rows_query

    def plan(statement) -> str:
        sql = statement.params(company_id=1).compile(db.engine, compile_kwargs={"literal_binds": True})
        rows = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
        return "\n".join(row[-1] for row in rows)

    counts = plan(counts_query())
    assert "ix_projects_link_error" in counts, counts
    assert "COVERING INDEX ix_erp_jobs_ready_to_import" in counts, counts
    page = plan(rows_query("ready_to_update")[0].limit(50))
    assert "ix_cost_code_update_requests_company_status" in page, page
    assert "TEMP B-TREE" not in page, page


@pytest.mark.parametrize("filter_key", ["ready_to_update", "synced", "failed_to_export"])
def test_jobs_page_queries_do_not_grow_with_the_rows(client, auth, filter_key):
    auth.login_as("approver")
    before = _statements_for(client, f"{JOBS}?filter={filter_key}")
    _add_requests(40)
    after = _statements_for(client, f"{JOBS}?filter={filter_key}")
    assert len(after) == len(before), "\n".join(after)


def test_ready_to_update_pages_by_fifty_with_search(client, auth):
    _add_requests(60)
    auth.login_as("approver")
    page = client.get(JOBS).get_data(as_text=True)
    assert page.count("View Requested Updates<") == 50
    assert "Page 1 of 2 (63 in all)" in page
    second = client.htmx_get(f"{JOBS}?filter=ready_to_update&page=2", headers={"HX-Target": "jobs-table"})
    assert second.get_data(as_text=True).count("View Requested Updates<") == 13
    found = client.get(f"{JOBS}?q=Bench+7").get_data(as_text=True)
    assert found.count("View Requested Updates<") == 1


# --- Rule 2: the Cost Codes for Update window is read-only ---


@pytest.mark.parametrize("role", ["viewer", "approver"])
def test_rule_2_cost_codes_for_update_window_is_read_only(client, auth, role):
    auth.login_as(role)
    request = waiting_request()
    response = client.htmx_get(window_url(request))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    elements = Elements(html)
    dialog = elements.all("dialog")[0]
    assert "modal" in dialog["class"] and dialog["aria-labelledby"] == "cost-codes-for-update-title"
    assert '<h2 id="cost-codes-for-update-title">Cost Codes for Update</h2>' in html
    close = [b for b in elements.all("button") if b.get("aria-label") == "Close"]
    assert len(close) == 1 and "data-close-dialog" in close[0]
    assert elements.all("form") == [] and elements.all("textarea") == [] and elements.all("select") == []
    inputs = elements.all("input")
    assert inputs and all("disabled" in attrs and attrs["type"] == "checkbox" for attrs in inputs)
    assert len(inputs) == len(request.lines) * 5  # Ridgeline's five cost types on every line
    line = next(line for line in request.lines if line.change == "new_cost_type")
    assert f"{line.code} {line.cost_type_code}" in html and "Adds cost type" in html and "New code" in html
    assert "(already in the ERP)" in html


def test_cost_codes_for_update_is_a_page_without_htmx(client, auth):
    auth.login_as("viewer")
    html = client.get(window_url(waiting_request())).get_data(as_text=True)
    assert "<h1>Cost Codes for Update</h1>" in html and "<dialog" not in html


def test_window_of_a_foreign_request_is_not_found(client, auth):
    auth.login_as("admin")
    assert client.htmx_get(window_url(waiting_request("harbor-point"))).status_code == 404
    assert (
        client.htmx_post(update_url(waiting_request("harbor-point")), {"seen_lines": "5"}).status_code == 404
    )
    assert client.get("/erp-integrations/requests/999999/requested-updates").status_code == 404


# --- Update ---


def test_update_approves_keeps_the_row_as_approved_updates_the_badge_and_says_when(client, auth):
    auth.login_as("approver")
    request = waiting_request()
    response = client.htmx_post(update_url(request), {"seen_lines": str(len(request.lines))})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Rule 11: the approved request stays under Ready to Update until the sync exports it,
    # saying who approved it, when, and when it will be exported; it can no longer be decided.
    row = html[html.index(f'id="update-request-{request.id}"') :]
    row = row[: row.index("</tr>")]
    assert "Approved</span> by Accounting Approver (Ridgeline) at " in row
    assert "exported at the next sync (within a minute)" in row
    assert "approve_request" not in row and "/update" not in row and "Reject" not in row
    assert 'aria-current="true">Ready to Update <span class="count">3</span>' in html
    assert re.search(
        r'<span class="badge" id="waiting-badge" hx-swap-oob="true">2<span class="visually-hidden">'
        r" waiting for you: to approve or failed to export</span></span>",
        html,
    )
    assert (
        '<div id="flash-area" hx-swap-oob="innerHTML"><div class="flash flash-success" role="status">'
        "Approved: the codes will be exported to the ERP at the next data sync (next sync: within a minute)."
        in html
    )
    db.session.expire_all()
    assert request.status == "approved" and audit_count("cost_code_update.approve") == 1


def test_update_without_htmx_redirects_with_the_confirmation(client, auth):
    auth.login_as("admin")
    request = waiting_request()
    response = client.post_form(
        update_url(request), {"seen_lines": str(len(request.lines))}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "Approved: the codes will be exported" in html
    assert 'Ready to Update <span class="count">3</span>' in html
    assert 'id="waiting-badge">2<' in html


def test_second_update_sees_who_approved_and_when(client, auth):
    auth.login_as("approver")
    request = waiting_request()
    data = {"seen_lines": str(len(request.lines))}
    assert client.htmx_post(update_url(request), data).status_code == 200
    auth.login_as("admin")
    _fresh_request_state()
    second = client.htmx_post(update_url(request), data)
    assert second.status_code == 409
    assert re.search(
        r"Already approved by Accounting Approver \(Ridgeline\) at \d{4}-\d\d-\d\d \d\d:\d\d UTC",
        second.get_data(as_text=True),
    )
    assert 'class="flash flash-error"' in second.get_data(as_text=True)
    assert audit_count("cost_code_update.approve") == 1


@pytest.mark.parametrize("data", [{"seen_lines": "four"}, {"seen_lines": "-1"}, {"seen_lines": "1e9"}])
def test_tampered_update_form_gets_a_clear_message_and_changes_nothing(client, auth, data):
    auth.login_as("approver")
    request = waiting_request()
    response = client.htmx_post(update_url(request), data)
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)
    db.session.expire_all()
    assert request.status == "requested" and audit_count("cost_code_update.approve") == 0


def test_update_with_an_outdated_line_count_is_refused(client, auth):
    auth.login_as("approver")
    request = waiting_request()
    response = client.htmx_post(update_url(request), {"seen_lines": str(len(request.lines) + 2)})
    assert response.status_code == 409
    assert "changed since you opened the page" in response.get_data(as_text=True)
    db.session.expire_all()
    assert request.status == "requested"


# --- Rule 1 on the page: the buttons are shown disabled with the reason ---


@pytest.mark.parametrize(
    ("role", "reason"),
    [
        ("accountant", "You need the Can Push to Accounting privilege"),
        ("viewer", "You need Standard or Admin on ERP Integrations"),
    ],
)
def test_rule_1_buttons_are_disabled_with_the_reason(client, auth, role, reason):
    auth.login_as(role)
    html = client.get(JOBS).get_data(as_text=True)
    assert f"Update and Reject are not available to you. {reason}." in html
    buttons = [b for b in Elements(html).all("button") if b.get("aria-describedby") == "approve-refusal"]
    assert len(buttons) == 6 and all("disabled" in b for b in buttons)
    assert "/update" not in html  # no Update form at all
    request = waiting_request()
    response = client.htmx_post(update_url(request), {"seen_lines": str(len(request.lines))})
    assert response.status_code == 403 and reason in response.get_data(as_text=True)
    assert client.htmx_post(reject_url(request), {"reason": "No"}).status_code == 403
    db.session.expire_all()
    assert request.status == "requested"


def test_rule_1_requester_may_not_approve_is_shown_on_their_rows(client, auth):
    approver = user_by_email("approver@ridgeline.test")
    request = waiting_request()
    request.requested_by_id = approver.id
    db.session.commit()
    auth.login_as("approver")
    html = client.get(JOBS).get_data(as_text=True)
    assert f'id="approve-refusal-{request.id}"' in html
    assert "Requester may not approve their own request" in html
    assert html.count('<button type="submit" class="primary">Update') == 2
    response = client.htmx_post(update_url(request), {"seen_lines": str(len(request.lines))})
    assert response.status_code == 403


# --- Reject ---


def test_reject_asks_for_a_reason_and_sends_the_request_back(client, auth):
    auth.login_as("approver")
    request = waiting_request()
    dialog = client.htmx_get(reject_url(request)).get_data(as_text=True)
    assert "<dialog" in dialog and 'name="reason"' in dialog and "required" in dialog
    empty = client.htmx_post(reject_url(request), {"reason": "  "})
    assert empty.status_code == 200
    assert empty.headers["HX-Retarget"] == "#reject-form"
    assert "Give a reason for the rejection" in empty.get_data(as_text=True)
    db.session.expire_all()
    assert request.status == "requested"

    done = client.htmx_post(reject_url(request), {"reason": "Use 2 Labor, not 5 Other."})
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert f'id="update-request-{request.id}"' not in html
    assert '<div id="modal-root" hx-swap-oob="true"></div>' in html
    assert "Rejected: RB-2402 Cedar Ridge Elementary can change its cost codes again" in html
    db.session.expire_all()
    assert request.status == "rejected" and request.rejection_reason == "Use 2 Labor, not 5 Other."
    states = db.session.scalars(
        select(CostTypeAssignment.erp_state).where(
            CostTypeAssignment.id.in_(
                select(UpdateRequestLine.assignment_id).where(UpdateRequestLine.request_id == request.id)
            )
        )
    ).all()
    assert set(states) == {"new"}


def test_reject_a_request_no_longer_waiting_gets_a_clear_message(client, auth):
    auth.login_as("approver")
    request = waiting_request()
    client.htmx_post(update_url(request), {"seen_lines": str(len(request.lines))})
    response = client.htmx_post(reject_url(request), {"reason": "Too late"})
    assert response.status_code == 409 and "Already approved by" in response.get_data(as_text=True)
    assert client.htmx_get(reject_url(request)).status_code == 409


def test_reject_without_htmx_shows_the_form_again_when_the_reason_is_missing(client, auth):
    auth.login_as("admin")
    response = client.post_form(reject_url(waiting_request()), {"reason": ""})
    assert response.status_code == 422
    assert "Give a reason for the rejection" in response.get_data(as_text=True)


# --- The header badge ---


def test_header_badge_counts_waiting_requests_for_can_push_to_accounting(client, auth):
    auth.login_as("approver")
    html = client.get("/projects/").get_data(as_text=True)
    assert (
        '<span class="badge" id="waiting-badge">3<span class="visually-hidden"> waiting for you: to '
        "approve or failed to export</span></span>"
    ) in html
    auth.login_as("accountant")
    _fresh_request_state()
    assert 'id="waiting-badge"' not in client.get("/projects/").get_data(as_text=True)


# --- Commitments ---


def test_commitments_tab_lists_contracts_and_change_orders_ready_to_export(client, auth):
    auth.login_as("viewer")
    html = client.get("/erp-integrations/commitments").get_data(as_text=True)
    assert "SC-001" in html and "CO-001" in html and "Change order" in html
    assert "Cost code update waiting for approval" in html
    assert 'aria-describedby="export-refusal"' in html


def test_commitment_export_is_refused_then_allowed_on_the_page(client, auth):
    auth.login_as("approver")
    request = waiting_request()
    commitment = commitment_of(request.project_id)
    url = f"/erp-integrations/commitments/{commitment.id}/export"
    refused = client.htmx_post(url, {"number": commitment.number})
    assert refused.status_code == 409
    assert (
        "Contract SC-001 of RB-2402 Cedar Ridge Elementary cannot be exported yet: update the "
        "project&#39;s cost codes first"
    ) in refused.get_data(as_text=True)
    client.htmx_post(update_url(request), {"seen_lines": str(len(request.lines))})
    tampered = client.htmx_post(url, {"number": "CO-001"})
    assert tampered.status_code == 400
    done = client.htmx_post(url, {"number": commitment.number})
    assert done.status_code == 200
    assert "Contract SC-001 of RB-2402 Cedar Ridge Elementary will be exported at the next data sync" in (
        done.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(Commitment, commitment.id).status == "export_requested"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "commitment.export_request")
        )
        == 1
    )


def test_commitment_of_another_company_is_not_found(client, auth):
    auth.login_as("admin")
    foreign = commitment_of(first_project("harbor-point").id)
    response = client.htmx_post(f"/erp-integrations/commitments/{foreign.id}/export", {"number": "SC-001"})
    assert response.status_code == 404


def test_harbor_point_approver_updates_a_sage_300_request(client, auth):
    auth.login_as("approver", company="harborpoint.test")
    request = waiting_request("harbor-point")
    window = client.htmx_get(window_url(request)).get_data(as_text=True)
    for category in ("LAB Labor", "MAT Material", "SUB Subcontract", "EQP Equipment", "OTH Other"):
        assert category in window
    assert re.search(r"\d\d-\d{3}", window)
    response = client.htmx_post(update_url(request), {"seen_lines": str(len(request.lines))})
    assert response.status_code == 200
    db.session.expire_all()
    assert request.status == "approved"
    assert 'Ready to Update <span class="count">3</span>' in response.get_data(as_text=True)
    assert 'Approved</span> by Accounting Approver (Harbor)' in response.get_data(as_text=True)


def test_update_as_a_one_button_post_approves_the_request_as_it_is(client, auth):
    auth.login_as("approver")
    request = waiting_request()
    response = client.htmx_post(update_url(request))
    assert response.status_code == 200
    db.session.expire_all()
    assert request.status == "approved" and audit_count("cost_code_update.approve") == 1


def test_rejection_reason_shows_on_the_project_and_its_codes_are_editable_again(client, auth):
    auth.login_as("approver")
    request = waiting_request()
    client.htmx_post(reject_url(request), {"reason": "Use 2 Labor, not 5 Other."})
    auth.login_as("pm")
    _fresh_request_state()
    url = f"/projects/{request.project_id}/admin/work-breakdown-structure/segments/cost-code/"
    html = client.get(url).get_data(as_text=True)
    assert "Rejected by Accounting Approver (Ridgeline)" in html
    assert "Use 2 Labor, not 5 Other." in html
    assert "Send to ERP" in html
