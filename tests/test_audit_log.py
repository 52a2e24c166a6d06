"""Company Admin → Audit Log: newest first, filters, paging, Download CSV."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from sqlalchemy import delete

from portal.extensions import db
from portal.models import AuditEvent
from tests.helpers import company_by_slug, first_project, user_by_email

LOG = "/company-admin/audit-log"


@pytest.fixture
def history():
    """A small known history in place of the demo's seed events."""
    ridgeline, harbor = company_by_slug("ridgeline"), company_by_slug("harbor-point")
    db.session.execute(delete(AuditEvent))
    admin = user_by_email("admin@ridgeline.test")
    approver = user_by_email("approver@ridgeline.test")
    project = first_project()

    def event(actor, action, when, label, project_id=None, company=ridgeline, **details):
        db.session.add(AuditEvent(
            company_id=company.id, actor_id=actor.id if actor else None,
            actor_name=actor.name if actor else "system", action=action, object_type="user",
            object_id="1", object_label=label, project_id=project_id, details=details,
            created_at=datetime.fromisoformat(when),
        ))

    event(admin, "user.grant_privilege", "2026-03-01T09:00", "Privilege for accountant",
          privilege="Can Push to Accounting", before="No", after="Yes")
    event(approver, "cost_code_update.approve", "2026-03-05T10:00", "RB-2401 request", project.id)
    event(admin, "user.deactivate", "2026-03-10T23:59", "=HYPERLINK(\"http://evil\")",
          before="Active", after="Deactivated")
    event(None, "sync.run", "2026-03-11T00:00", "+sync -1 @x")
    event(user_by_email("admin@harborpoint.test"), "user.deactivate", "2026-03-06T08:00",
          "Harbor Point secret", company=harbor)
    db.session.commit()
    return {"admin": admin, "approver": approver, "project": project}


@pytest.fixture
def sixty_bulk_events(history):
    """Sixty more Ridgeline events of the action "bulk.event": more than one page of the log."""
    company = company_by_slug("ridgeline")
    db.session.add_all(
        AuditEvent(company_id=company.id, actor_name="system", action="bulk.event",
                   object_type="test", object_label=f"bulk {n}") for n in range(60)
    )
    db.session.commit()


def rows(response) -> list[str]:
    """The Object column of the table, top to bottom."""
    html = response.data.decode()
    return [label for label in ("Privilege for accountant", "RB-2401 request", "=HYPERLINK", "+sync -1 @x")
            if label in html.replace("&#34;", '"')]


def test_audit_log_shows_the_company_events_newest_first(client, auth, history):
    auth.login_as("admin")
    page = client.get(LOG).data.decode().replace("&#34;", '"')
    order = [page.index(label) for label in ("+sync -1 @x", "=HYPERLINK", "RB-2401 request",
                                             "Privilege for accountant")]
    assert order == sorted(order)
    assert "Harbor Point secret" not in page
    assert "Granted a privilege to Privilege for accountant" in page
    assert "Can Push to Accounting changed from No to Yes." in page


def test_audit_log_is_visible_to_company_admin_read_only(client, auth, history):
    viewer = user_by_email("viewer@ridgeline.test")
    viewer.company_admin_level = 1
    db.session.commit()
    auth.login_as("viewer")
    assert client.get(LOG).status_code == 200
    assert client.get(f"{LOG}.csv").status_code == 200


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=user.deactivate", ["=HYPERLINK"]),
        ("user={approver}", ["RB-2401 request"]),
        ("project={project}", ["RB-2401 request"]),
        ("from=2026-03-05&to=2026-03-10", ["RB-2401 request", "=HYPERLINK"]),
        ("from=2026-03-11", ["+sync -1 @x"]),
        ("to=2026-03-01", ["Privilege for accountant"]),
        ("user={admin}&action=user.grant_privilege", ["Privilege for accountant"]),
    ],
    ids=["action", "user", "project", "date-range-inclusive", "from", "to", "user-and-action"],
)
def test_audit_log_filters(client, auth, history, query, expected):
    auth.login_as("admin")
    url = f"{LOG}?" + query.format(admin=history["admin"].id, approver=history["approver"].id,
                                   project=history["project"].id)
    response = client.get(url)
    assert response.status_code == 200
    assert sorted(rows(response)) == sorted(expected)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-02-30", 'From date "2026-02-30" is not a date; use the form YYYY-MM-DD.'),
        ("to=yesterday", 'To date "yesterday" is not a date; use the form YYYY-MM-DD.'),
        ("from=2026-03-10&to=2026-03-01", "The From date 2026-03-10 is after the To date 2026-03-01."),
        ("user=999999", 'User "999999" is not one of the choices.'),
    ],
    ids=["impossible-date", "not-a-date", "from-after-to", "unknown-user"],
)
def test_bad_audit_log_filter_gives_a_clear_message(client, auth, history, query, message):
    auth.login_as("admin")
    for url in (f"{LOG}?{query}", f"{LOG}.csv?{query}"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert message in response.data.decode().replace("&#34;", '"'), url


def test_audit_log_filter_by_a_foreign_user_shows_nothing_of_theirs(client, auth, history):
    auth.login_as("admin")
    foreign = user_by_email("admin@harborpoint.test")
    response = client.get(f"{LOG}?user={foreign.id}")
    assert response.status_code == 400
    assert b"Harbor Point secret" not in response.data


def test_audit_log_is_paged_by_fifty(client, auth, history, sixty_bulk_events):
    auth.login_as("admin")
    first = client.get(f"{LOG}?action=bulk.event")
    assert b"Page 1 of 2 (60 in all)" in first.data
    assert first.data.count(b"<td>bulk: event bulk ") == 50
    second = client.htmx_get(f"{LOG}?action=bulk.event&page=2")
    assert second.data.count(b"<td>bulk: event bulk ") == 10
    assert b"<html" not in second.data


def test_download_csv_has_every_filtered_row_and_is_an_attachment(client, auth, history, sixty_bulk_events):
    auth.login_as("admin")
    response = client.get(f"{LOG}.csv?action=bulk.event")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".csv" in disposition
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[0] == ["When (UTC)", "User", "Action", "Object type", "Object", "Project", "Details"]
    assert len(table) == 61  # all of them, not one page
    assert {row[3] for row in table[1:]} == {"test"}


def test_download_csv_content_matches_the_filter(client, auth, history):
    auth.login_as("admin")
    response = client.get(f"{LOG}.csv?project={history['project'].id}")
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[1:] == [[
        "2026-03-05 10:00:00 UTC", "Accounting Approver (Ridgeline)",
        "Approved the cost code update for RB-2401 request", "user",
        "RB-2401 request", history["project"].label, "",
    ]]


def test_download_csv_defuses_cells_a_spreadsheet_would_run_as_formulas(client, auth, history):
    auth.login_as("admin")
    response = client.get(f"{LOG}.csv")
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    objects = {row[4] for row in table[1:]}
    assert "'=HYPERLINK(\"http://evil\")" in objects
    assert "'+sync -1 @x" in objects
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in table for cell in row)
    assert "Harbor Point secret" not in response.data.decode()


def test_download_csv_opens_in_excel_as_utf_8(client, auth, history):
    """Excel reads a CSV file as UTF-8 only when it starts with a byte-order mark; without it
    "→" and "“" come out garbled."""
    auth.login_as("admin")
    data = client.get(f"{LOG}.csv").data
    assert data.startswith("\ufeff".encode())
    assert "Can Push to Accounting changed from No to Yes." in data.decode("utf-8-sig")


def test_audit_log_shows_actions_and_details_in_words(client, auth, history):
    auth.login_as("admin")
    page = client.get(LOG).data.decode()
    assert "Approved the cost code update for RB-2401 request" in page
    assert "Deactivated" in page and "Active changed" not in page
    assert "cost_code_update.approve" not in page.split("<table", 1)[1]
    assert "{" not in page.split("<table", 1)[1].split("</table>")[0]


def test_audit_log_times_are_in_the_company_time_zone(client, auth, history):
    company = company_by_slug("ridgeline")
    company.time_zone = "America/Chicago"
    db.session.commit()
    auth.login_as("admin")
    page = client.get(LOG).data.decode()
    assert "2026-03-05 04:00 CST" in page  # 10:00 UTC
    table = list(csv.reader(io.StringIO(client.get(f"{LOG}.csv").data.decode("utf-8-sig"))))
    assert table[0][0] == "When (America/Chicago)"
    assert "2026-03-05 04:00:00 CST" in [row[0] for row in table]
