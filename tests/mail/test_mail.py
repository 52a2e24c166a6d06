"""E-mail about cost code updates, delivered to a real SMTP server (aiosmtpd) by the worker."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.config import TestConfig
from portal.erp.connectors import connector_for
from portal.extensions import db
from portal.models import AuditEvent, CostType, OutgoingMail, Project, utcnow
from portal.notifications.links import portal_links
from portal.services.approvals import approve_requested_updates, reject_requested_updates
from portal.services.notifications import (
    MailSettingsError,
    mail_settings,
    send_due_mail,
    set_approval_mail,
)
from portal.services.notifications.outbox import next_digest_time
from portal.services.notifications.sending import MAX_ATTEMPTS, _claim
from portal.services.project_cost_codes import (
    add_cost_types_to_code,
    open_update_request,
    send_updates_to_erp,
)
from portal.services.sync import run_company_sync
from tests.helpers import company_by_slug, first_project, side_paths, user_by_email
from tests.mail.conftest import REFUSED, free_port
from tests.sync.factories import approved_request, project_by_number
from tests.sync.wrappers import RecordingConnector

BASE = "https://portal.ridgeline.test/ccp"


def deliver(app, now=None, timeout=None, **overrides):
    settings = mail_settings({**app.config, **overrides})
    if timeout is not None:
        settings = replace(settings, timeout=timeout)
    return send_due_mail(db.session, settings, portal_links(app), now=now)


def send_for_approval(project=None, cost_type_code="2"):
    """The PM adds a cost type to one of the project's exported codes and sends it."""
    project = project or first_project()
    pm = user_by_email("pm@ridgeline.test")
    cost_type = db.session.scalar(
        select(CostType).where(CostType.company_id == project.company_id, CostType.code == cost_type_code)
    )
    cost_code = next(
        c for c in project.cost_codes if all(a.cost_type.code != cost_type_code for a in c.assignments)
    )
    add_cost_types_to_code(db.session, project, pm, cost_code.id, {cost_type.id})
    return send_updates_to_erp(db.session, project, pm)


def quiet_projects(count: int):
    """Ridgeline projects with codes and no update waiting for approval."""
    projects = db.session.scalars(
        select(Project).where(Project.company_id == company_by_slug("ridgeline").id).order_by(Project.number)
    )
    return [p for p in projects if p.cost_codes and open_update_request(db.session, p) is None][:count]


def outbox() -> list[OutgoingMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def approver(email="approver@ridgeline.test"):
    return user_by_email(email)


def test_an_approver_gets_an_e_mail_when_an_update_is_sent_for_approval(app, smtp_server):
    request = send_for_approval()
    # Written with the event; nothing is sent by the request itself.
    assert smtp_server.messages == []
    assert deliver(app) == 2
    [message] = smtp_server.to("approver@ridgeline.test")
    project = request.project.label
    assert smtp_server.subjects("approver@ridgeline.test") == [
        f"Cost code update of {project} waits for your approval"
    ]
    assert message["From"] == "Cost Code Portal <portal@ridgeline.test>"
    body = message.get_content()
    assert f"{BASE}/erp-integrations/requests/{request.id}/requested-updates" in body
    assert f"{BASE}/account/notifications" in body
    # Every approver (ERP Integrations Standard or Admin with Can Push to Accounting), nobody else.
    assert len(smtp_server.to("admin@ridgeline.test")) == 1
    for nobody in ("accountant@ridgeline.test", "viewer@ridgeline.test", "pm@ridgeline.test"):
        assert smtp_server.to(nobody) == []
    assert smtp_server.to("approver@harborpoint.test") == []


def test_sending_from_the_project_page_queues_mail_but_the_request_sends_none(app, client, auth, smtp_server):
    project = first_project()
    pm = auth.login_as("pm")
    cost_type = db.session.scalar(
        select(CostType).where(CostType.company_id == pm.company_id, CostType.code == "2")
    )
    cost_code = next(c for c in project.cost_codes if all(a.cost_type.code != "2" for a in c.assignments))
    add_cost_types_to_code(db.session, project, pm, cost_code.id, {cost_type.id})
    response = client.post_form(
        f"/projects/{project.id}/admin/work-breakdown-structure/segments/cost-code/send-to-erp"
    )
    assert response.status_code in (200, 302)
    assert smtp_server.messages == []
    assert {mail.recipient.email for mail in outbox()} == {"approver@ridgeline.test", "admin@ridgeline.test"}


def test_the_worker_task_sends_due_mail(app, smtp_server):
    from portal.tasks import send_due_mail_task

    send_for_approval()
    send_due_mail_task.call_local()
    assert len(smtp_server.to("approver@ridgeline.test")) == 1


def test_an_approver_who_chose_the_daily_digest_gets_one_mail_for_every_waiting_update(app, smtp_server):
    set_approval_mail(db.session, approver(), "daily")
    first, second = quiet_projects(2)
    send_for_approval(first)
    send_for_approval(second)
    deliver(app)
    assert smtp_server.to("approver@ridgeline.test") == []  # not yet: at the digest hour
    assert len(smtp_server.to("admin@ridgeline.test")) == 2  # who chose "at once"
    deliver(app, now=next_digest_time(utcnow(), app.config["MAIL_DIGEST_HOUR"]) + timedelta(seconds=1))
    [digest] = smtp_server.to("approver@ridgeline.test")
    assert digest["Subject"].strip() == "Cost code updates waiting for your approval: 2 projects"
    body = digest.get_content()
    assert first.label in body and second.label in body


def test_an_approver_who_chose_none_gets_no_mail(app, smtp_server):
    set_approval_mail(db.session, approver(), "none")
    send_for_approval()
    deliver(app)
    assert smtp_server.to("approver@ridgeline.test") == []
    assert len(smtp_server.to("admin@ridgeline.test")) == 1


def test_the_requester_hears_of_the_approval_with_a_link_to_the_project(app, smtp_server):
    request = send_for_approval()
    deliver(app)
    approve_requested_updates(db.session, request.id, approver(), company_id=request.company_id)
    deliver(app)
    [message] = smtp_server.to("pm@ridgeline.test")
    project = first_project()
    assert smtp_server.subjects("pm@ridgeline.test") == [
        f"Your cost code update of {project.label} was approved"
    ]
    assert f"{BASE}/projects/{project.id}/admin/work-breakdown-structure/segments/cost-code/" in (
        message.get_content()
    )


def test_the_requester_hears_of_the_rejection_with_the_reason(app, smtp_server):
    request = send_for_approval()
    reject_requested_updates(
        db.session, request.id, approver(), "Labor belongs on 1020.000", company_id=request.company_id
    )
    deliver(app)
    [message] = smtp_server.to("pm@ridgeline.test")
    assert smtp_server.subjects("pm@ridgeline.test") == [
        f"Your cost code update of {first_project().label} was rejected"
    ]
    assert "Reason: Labor belongs on 1020.000" in message.get_content()


@pytest.mark.parametrize("mode", ["result", "erp_error"])
def test_the_requester_hears_once_that_the_update_failed_to_export(app, erp, smtp_server, mode):
    approved_request(project_by_number("RB-2401"), [("3010.000", "1")])
    db.session.commit()
    company = company_by_slug("ridgeline")
    for _sync in range(2):  # a failed request is tried again at every sync, and fails again
        connector = RecordingConnector(connector_for(company, app.config), fail_at=1, mode=mode)
        run_company_sync(db.session, company.id, connector=connector)
    deliver(app)
    deliver(app)
    [message] = smtp_server.to("pm@ridgeline.test")
    assert message["Subject"].strip() == (
        f"Your cost code update of {project_by_number('RB-2401').label} failed to export"
    )
    assert "Error: " in message.get_content()
    assert len(outbox()) == 1


def test_one_event_is_never_mailed_twice(app, smtp_server):
    send_for_approval()
    assert deliver(app) == 2
    assert deliver(app) == 0
    assert len(smtp_server.to("approver@ridgeline.test")) == 1
    assert {mail.state for mail in outbox()} == {"sent"}


def test_mail_another_worker_is_sending_is_not_sent_again(app, smtp_server):
    send_for_approval()
    now = utcnow()
    assert _claim(db.session, [mail.id for mail in outbox()], now)  # the other worker
    assert deliver(app, now=now) == 0
    assert smtp_server.messages == []


def test_mail_is_retried_while_the_mail_server_is_down_and_listed_for_the_admin(
    app, client, auth, smtp_server
):
    send_for_approval()
    down = f"smtp://127.0.0.1:{free_port()}"
    assert deliver(app, SMTP_URL=down) == 0
    waiting = outbox()
    assert {(mail.state, mail.attempts) for mail in waiting} == {("queued", 1)}
    assert all(mail.last_error and mail.next_attempt_at > utcnow() for mail in waiting)
    admin = auth.login_as("admin")
    admin.company.time_zone = "America/Chicago"
    db.session.commit()
    page = client.get("/company-admin/undelivered-mail").get_data(as_text=True)
    assert "Waiting to be sent" in page and "ConnectionRefusedError" in page
    # Times in the company's zone, as everywhere else in the portal.
    assert re.search(r"next try \d{4}-\d\d-\d\d \d\d:\d\d CST\)", page) and " UTC" not in page
    # Not before its next attempt, then once the server is back.
    assert deliver(app) == 0
    assert deliver(app, now=utcnow() + timedelta(minutes=2)) == 2
    assert len(smtp_server.to("approver@ridgeline.test")) == 1
    page = client.get("/company-admin/undelivered-mail").get_data(as_text=True)
    assert "Every e-mail was delivered." in page


def test_mail_that_keeps_failing_becomes_undeliverable(app, smtp_server):
    send_for_approval()
    down = f"smtp://127.0.0.1:{free_port()}"
    now = utcnow()
    for _attempt in range(MAX_ATTEMPTS):
        deliver(app, now=now, SMTP_URL=down)
        now += timedelta(hours=1)
    assert {mail.state for mail in outbox()} == {"undeliverable"}
    assert deliver(app, now=now) == 0


def test_a_refused_recipient_is_undeliverable_at_once_and_the_rest_still_goes(app, client, auth, smtp_server):
    user = approver()
    user.email = REFUSED
    db.session.commit()
    send_for_approval()
    assert deliver(app) == 1
    refused = next(mail for mail in outbox() if mail.recipient.email == REFUSED)
    assert refused.state == "undeliverable" and "550" in refused.last_error
    assert len(smtp_server.to("admin@ridgeline.test")) == 1
    auth.login_as("admin")
    page = client.get("/company-admin/undelivered-mail").get_data(as_text=True)
    assert REFUSED in page and "Could not be delivered" in page


def test_without_a_mail_server_nothing_is_queued_or_sent_and_nothing_fails(database_url, tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, **side_paths(tmp_path),
                     SMTP_URL="", MAIL_FROM="")
    with app.app_context():
        request = send_for_approval()
        approve_requested_updates(db.session, request.id, approver(), company_id=request.company_id)
        assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 0
        assert deliver(app) == 0
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example:2525", ("mail.example", 2525, False, False, "", "")),
    ("smtp://u%40corp:p%2Fw@mail.example?starttls=1", ("mail.example", 587, False, True, "u@corp", "p/w")),
    ("smtps://mail.example", ("mail.example", 465, True, False, "", "")),
])
def test_smtp_url_settings(url, expected):
    settings = mail_settings({"SMTP_URL": url, "MAIL_FROM": "portal@example.test"})
    assert (settings.host, settings.port, settings.tls, settings.starttls,
            settings.username, settings.password) == expected


def test_a_bad_smtp_url_is_refused_without_showing_its_password():
    with pytest.raises(MailSettingsError, match="SMTP_URL") as refused:
        mail_settings({"SMTP_URL": "http://user:s3cret@mail.example", "MAIL_FROM": "portal@example.test"})
    assert "s3cret" not in str(refused.value)


def test_notifications_page_saves_the_choice_and_audits_it(app, client, auth):
    auth.login_as("approver")
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "One daily digest" in page and "No e-mail" in page
    response = client.post_form("/account/notifications", {"approval_mail": "daily"})
    assert response.status_code == 302
    assert approver().approval_mail == "daily"
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.set_approval_mail"))
    assert event.details == {"before": "At once, one e-mail per update", "after": "One daily digest"}


def test_notifications_page_refuses_an_unknown_choice_naming_it(app, client, auth):
    auth.login_as("approver")
    response = client.post_form("/account/notifications", {"approval_mail": "hourly"})
    assert response.status_code == 400
    assert "Notifications were not saved" in response.get_data(as_text=True)
    assert approver().approval_mail == "immediate"


# --- TLS and sign-in to the mail server ---


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    from tests.directory.conftest import _certificates

    base = tmp_path_factory.mktemp("smtp-tls")
    _certificates(base)
    return base


def _server_context(certificate):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate / "server.pem", certificate / "server.key")
    return context


def _password_check(server, session, envelope, mechanism, auth_data):  # noqa: ANN001
    from aiosmtpd.smtp import AuthResult

    return AuthResult(success=(auth_data.login, auth_data.password) == (b"portal@corp", b"p/w:secret"))


@pytest.mark.parametrize("scheme", ["starttls", "smtps"])
def test_mail_goes_over_tls_with_the_configured_ca_and_signs_in(app, smtp_server, certificate, scheme):
    from aiosmtpd.controller import Controller

    from tests.mail.conftest import Inbox

    inbox = Inbox()
    port = free_port()
    if scheme == "smtps":
        controller = Controller(
            inbox, hostname="127.0.0.1", port=port, ssl_context=_server_context(certificate),
            authenticator=_password_check, auth_required=True,
            auth_require_tls=False,  # the TLS is implicit here, which aiosmtpd's check does not see
        )
        url = f"smtps://portal%40corp:p%2Fw%3Asecret@127.0.0.1:{port}"
    else:
        controller = Controller(
            inbox, hostname="127.0.0.1", port=port, tls_context=_server_context(certificate),
            require_starttls=True, authenticator=_password_check, auth_required=True,
        )
        url = f"smtp://portal%40corp:p%2Fw%3Asecret@127.0.0.1:{port}?starttls=1"
    controller.start()
    try:
        send_for_approval()
        # A certificate the system's CAs did not sign is refused: the mail waits.
        assert deliver(app, SMTP_URL=url) == 0
        assert deliver(app, now=utcnow() + timedelta(minutes=5), SMTP_URL=url,
                       SMTP_CA_FILE=str(certificate / "ca.pem")) == 2
        assert len(inbox.to("approver@ridgeline.test")) == 1
    finally:
        controller.stop()


def test_a_mail_server_that_refuses_the_portal_itself_is_retried_not_given_up(app, smtp_server):
    # A refused From (or a wrong password) is the portal's setting to fix, not the recipient's
    # address: the mail waits for the next try instead of becoming undeliverable.
    from aiosmtpd.controller import Controller

    from tests.mail.conftest import Inbox

    class RefusesTheSender(Inbox):
        async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802, ANN001
            return "553 5.7.1 Sender address rejected: not owned by user"

    port = free_port()
    controller = Controller(RefusesTheSender(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        send_for_approval()
        assert deliver(app, SMTP_URL=f"smtp://127.0.0.1:{port}") == 0
        waiting = outbox()
        assert {(mail.state, mail.attempts) for mail in waiting} == {("queued", 1)}
        assert all("553" in mail.last_error for mail in waiting)
    finally:
        controller.stop()
