"""Company Admin → ERP settings: the company's connector, write-only secrets, Test connection."""

from __future__ import annotations

import html

import pytest

from portal.erp.connectors import connector_for
from portal.erp.sage100_database import Sage100DatabaseConnector
from portal.erp.sealed_password import PasswordUnreadable
from portal.extensions import db
from portal.models import ErpConnection
from portal.services import erp_settings
from tests.helpers import audit_events, company_by_slug, user_by_email

PAGE = "/company-admin/erp-settings"
TEST = "/company-admin/erp-settings/test"


def page_text(client) -> str:
    response = client.get(PAGE)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def save(client, kind, **settings):
    """The form as the page posts it: each connector's settings named "<kind>__<setting>"."""
    form = {"kind": kind, **{f"{kind}__{key}": value for key, value in settings.items()}}
    return client.post_form(PAGE, form, follow_redirects=True)


def test_erp_settings_store_the_company_connector_and_never_show_the_password(app, client, auth):
    auth.login_as("admin")
    response = save(client, kind="sage100_database", url="mssql+pymssql://api:Secr3t@sql1/Ridgeline")
    assert "Saved the ERP settings: Sage 100 Contractor database (SQL Server)." in html.unescape(
        response.get_data(as_text=True)
    )
    text = page_text(client)
    assert "Secr3t" not in text
    assert 'value="mssql+pymssql://api@sql1/Ridgeline"' in text
    assert "Set: leave blank to keep it" in text
    stored = company_by_slug("ridgeline").erp_connection
    assert "Secr3t" not in stored.secret and "Secr3t" not in str(stored.settings)
    assert stored.connector_settings(app.config["SECRET_KEY"])["password"] == "Secr3t"
    # A blank password keeps the stored one.
    save(client, kind="sage100_database", url="mssql+pymssql://api@sql2/Ridgeline")
    db.session.expire_all()
    assert company_by_slug("ridgeline").erp_connection.connector_settings(app.config["SECRET_KEY"]) == {
        "url": "mssql+pymssql://api@sql2/Ridgeline", "password": "Secr3t",
    }
    event = audit_events("erp_settings.save")[0]
    assert "Secr3t" not in str(event.details) and event.details["password_changed"] is True


def test_writing_to_a_sage_database_is_off_until_a_company_admin_turns_it_on_with_a_warning(
    app, client, auth
):
    auth.login_as("admin")
    save(client, kind="sage100_database", url="mssql+pymssql://api@sql1/Ridgeline", password="pw")
    company = company_by_slug("ridgeline")
    assert company.erp_connection.writes_enabled is False
    assert "Sage documents no way for other programs to write to these" in page_text(client)
    save(
        client, kind="sage100_database", url="mssql+pymssql://api@sql1/Ridgeline", writes_enabled="on"
    )
    db.session.expire_all()
    assert company_by_slug("ridgeline").erp_connection.writes_enabled is True


def test_a_connector_for_another_erp_is_refused_and_nothing_is_stored(app, client, auth):
    auth.login_as("admin")
    response = save(client, kind="sage300_odbc", dsn="TL", user="u")
    assert "Choose a connector for Sage 100 Contractor" in html.unescape(response.get_data(as_text=True))
    assert company_by_slug("ridgeline").erp_connection is None


def test_a_missing_setting_is_named(app, client, auth):
    auth.login_as("admin")
    response = save(client, kind="sage100_files", inbox="/srv/in", outbox="")
    assert "needs: Folder import files are written to" in html.unescape(response.get_data(as_text=True))


def test_test_connection_reports_the_cost_types_and_codes_it_read(app, client, auth, erp):
    auth.login_as("admin")
    response = client.post_form(TEST, follow_redirects=True)
    text = html.unescape(response.get_data(as_text=True))
    assert "Connected to Sage 100 Contractor: 9 cost types (1 Material, 2 Labor" in text
    assert "150 cost codes (first: 1010.000 Project Management" in text
    assert audit_events("erp_settings.test_connection")[0].details["succeeded"] is True


def test_test_connection_says_exactly_what_failed(app, client, auth, tmp_path):
    auth.login_as("admin")
    save(client, kind="sage100_database", url=f"sqlite:///{tmp_path / 'not-sage.sqlite'}")
    response = client.post_form(TEST, follow_redirects=True)
    text = html.unescape(response.get_data(as_text=True))
    assert "Test connection failed" in text and "no such table: csttyp" in text


def test_the_stored_choice_wins_over_the_environment(app, client, auth, tmp_path):
    auth.login_as("admin")
    save(client, kind="sage100_database", url=f"sqlite:///{tmp_path / 'sage.sqlite'}")
    connector = connector_for(company_by_slug("ridgeline"), app.config)
    assert isinstance(connector, Sage100DatabaseConnector) and connector.writes_enabled is False


def test_a_sage300_company_is_offered_its_own_connectors(app, client, auth):
    auth.login_as("admin", company="harborpoint.test")
    text = page_text(client)
    assert "Sage 300 CRE ODBC (Timberline driver)" in text
    assert "Sage 100 Contractor files" not in text
    # Each connector the company can use shows its own settings, ready to be chosen.
    assert 'name="sage300_odbc__dsn"' in text


def test_ready_to_update_says_a_sage300_company_takes_no_cost_codes_from_outside(app, client, auth):
    auth.login_as("approver", company="harborpoint.test")
    text = html.unescape(client.get("/erp-integrations/jobs?filter=ready_to_update").get_data(as_text=True))
    assert "Sage 300 CRE takes no cost codes from outside" in text
    assert "embedded reference ERP, which adds approved codes to the job itself" in text
    auth.login_as("admin", company="harborpoint.test")
    save(client, kind="sage300_odbc", dsn="Timberline", user="odbc", password="pw")
    auth.login_as("approver", company="harborpoint.test")
    text = html.unescape(client.get("/erp-integrations/jobs?filter=ready_to_update").get_data(as_text=True))
    assert "the accountant adds the codes and categories to the job in Job Cost" in text
    assert "embedded reference ERP" not in text


def test_ready_to_update_of_a_sage100_company_adds_no_note_when_the_export_does_it(app, client, auth):
    auth.login_as("approver")
    text = html.unescape(client.get("/erp-integrations/jobs?filter=ready_to_update").get_data(as_text=True))
    assert 'role="note"' not in text


def test_a_database_url_that_is_not_a_url_is_refused_with_a_message_naming_it(app, client, auth):
    auth.login_as("admin")
    response = save(client, kind="sage100_database", url="SAGESERVER\\Ridgeline")
    assert response.status_code == 200
    text = html.unescape(response.get_data(as_text=True))
    assert 'Database URL "SAGESERVER\\Ridgeline" is not a URL' in text
    assert company_by_slug("ridgeline").erp_connection is None


def test_the_erp_password_is_stored_sealed_and_another_portals_key_says_to_type_it_again(app, client, auth):
    auth.login_as("admin")
    save(client, kind="sage100_database", url="mssql+pymssql://api@sql1/Ridgeline", password="Secr3t")
    stored = company_by_slug("ridgeline").erp_connection
    # The database alone (a backup, a dump) does not give the password away.
    assert stored.secret.startswith("sealed:") and "Secr3t" not in stored.secret
    with pytest.raises(PasswordUnreadable, match="type the password again"):
        connector_for(company_by_slug("ridgeline"), {**app.config, "SECRET_KEY": "another portal's key"})
    check = erp_settings.test_connection(
        db.session, actor=user_by_email("admin@ridgeline.test"),
        config={**app.config, "SECRET_KEY": "another portal's key"},
    )
    assert check.message.startswith(
        "Test connection failed: The password on Company Admin → ERP settings cannot be read"
    )


def test_a_password_stored_as_plain_text_before_sealing_is_read_and_portal_upgrade_seals_it(app):
    company = company_by_slug("ridgeline")
    db.session.add(ErpConnection(company_id=company.id, kind="sage100_database", secret="Old-pw",
                                 settings={"url": "mssql+pymssql://api@sql1/Ridgeline"}))
    db.session.commit()
    assert company.erp_connection.connector_settings(app.config["SECRET_KEY"])["password"] == "Old-pw"
    assert erp_settings.seal_stored_passwords(db.session, app.config["SECRET_KEY"]) == [company.name]
    db.session.expire_all()
    stored = company_by_slug("ridgeline").erp_connection
    assert stored.secret.startswith("sealed:")
    assert stored.connector_settings(app.config["SECRET_KEY"])["password"] == "Old-pw"
    assert erp_settings.seal_stored_passwords(db.session, app.config["SECRET_KEY"]) == []
