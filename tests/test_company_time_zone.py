"""The company's time zone: a Company Admin sets it, and every screen shows times in it."""
from __future__ import annotations

from datetime import datetime

from portal.extensions import db
from portal.services.approvals import decided_message
from tests.helpers import audit_events, company_by_slug, waiting_request

JOBS = "/erp-integrations/jobs?filter=ready_to_update"
SETTING = "/company-admin/time-zone"


def _requested_at_a_quarter_past_three_utc() -> None:
    waiting_request("ridgeline").requested_at = datetime(2026, 1, 9, 15, 5)
    db.session.commit()


def test_times_are_shown_in_utc_until_the_company_sets_its_zone(client, auth):
    _requested_at_a_quarter_past_three_utc()
    auth.login_as("approver")
    assert "<td>2026-01-09 15:05 UTC</td>" in client.get(JOBS).get_data(as_text=True)


def test_company_admin_sets_the_time_zone_and_every_screen_follows(client, auth):
    _requested_at_a_quarter_past_three_utc()
    auth.login_as("admin")
    page = client.get("/company-admin/portal-status").get_data(as_text=True)
    assert '<option selected>UTC</option>' in page
    response = client.post_form(SETTING, {"time_zone": "America/Chicago"})
    assert response.status_code == 303
    assert company_by_slug("ridgeline").time_zone == "America/Chicago"
    assert [event.details for event in audit_events("company.set_time_zone")] == [
        {"from": "UTC", "to": "America/Chicago"}
    ]
    # A full page and an htmx partial alike: 15:05 UTC is 09:05 in Chicago in January (CST).
    assert "<td>2026-01-09 09:05 CST</td>" in client.get(JOBS).get_data(as_text=True)
    assert "<td>2026-01-09 09:05 CST</td>" in client.htmx_get(JOBS).get_data(as_text=True)


def test_an_unknown_time_zone_is_refused_by_name_and_nothing_changes(client, auth):
    auth.login_as("admin")
    response = client.post_form(SETTING, {"time_zone": "Mars/Olympus_Mons"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "&#34;Mars/Olympus_Mons&#34; is not a time zone the portal knows" in page
    assert company_by_slug("ridgeline").time_zone == "UTC"
    assert audit_events("company.set_time_zone") == []


def test_messages_give_times_in_the_company_time_zone(app):
    """"Already approved by … at 09:05 CST", like the screens, not in UTC."""
    request = waiting_request("ridgeline")
    request.approved_at = datetime(2026, 1, 9, 15, 5)
    request.approved_by = request.requested_by
    company_by_slug("ridgeline").time_zone = "America/Chicago"
    db.session.commit()
    assert decided_message(request).endswith(" at 2026-01-09 09:05 CST.")
