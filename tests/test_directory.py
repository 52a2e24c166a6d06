"""Company Admin → Directory: adding users, levels, Can Push to Accounting, deactivation."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import CompanyTool, Level, Project, ProjectPermission, User
from portal.services import ServiceError
from portal.services import directory as directory_service
from tests.helpers import AuthActions, audit_events, first_project, user_by_email

RIDGELINE = "ridgeline.test"


def url(user: User, action: str = "") -> str:
    return f"/company-admin/directory/{user.id}{'/' + action if action else ''}"


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def make(email: str, **changes) -> User:
    """Give a demo user other levels for a test (e.g. a Company Admin without the privilege)."""
    user = user_by_email(email)
    for name, value in changes.items():
        setattr(user, name, value)
    db.session.commit()
    return user


# --- Seeing the directory ---------------------------------------------------------------------------

def test_directory_lists_the_company_users_and_only_those(client, auth):
    auth.login_as("admin")
    page = client.get("/company-admin/directory")
    assert page.status_code == 200
    assert b"accountant@ridgeline.test" in page.data
    assert b"harborpoint.test" not in page.data


def test_directory_search_finds_users_by_name_or_email(client, auth):
    auth.login_as("admin")
    by_name = client.get("/company-admin/directory?q=Staff")
    assert b"accountant@ridgeline.test" in by_name.data
    assert b"viewer@ridgeline.test" not in by_name.data
    by_email = client.htmx_get("/company-admin/directory?q=viewer@")
    assert b"viewer@ridgeline.test" in by_email.data and b"<html" not in by_email.data
    nothing = client.get("/company-admin/directory?q=nobody-at-all")
    assert b"No user matches" in nothing.data


def test_directory_is_paged(app, client, auth):
    app.config["PAGE_SIZE"] = 2
    auth.login_as("admin")
    first = client.get("/company-admin/directory")
    assert b"Page 1 of 3" in first.data
    third = client.get("/company-admin/directory?page=3")
    assert b"Page 3 of 3" in third.data


def test_read_only_company_admin_sees_the_directory_but_no_controls(client, auth):
    viewer = make(f"viewer@{RIDGELINE}", company_admin_level=Level.READ_ONLY)
    accountant = user_by_email(f"accountant@{RIDGELINE}")
    auth.login_as("viewer")
    listing = client.get("/company-admin/directory")
    assert listing.status_code == 200 and b"Add user" not in listing.data
    detail = client.get(url(accountant))
    assert detail.status_code == 200
    assert b"<form method=\"post\" action=\"/company-admin" not in detail.data
    assert b"<select" not in detail.data
    # The server refuses whatever the page shows.
    refused = client.post_form(url(accountant, "can-push-to-accounting"), {"granted": "yes"})
    assert refused.status_code == 403
    assert client.post_form(url(accountant, "status"), {"active": "no"}).status_code == 403
    assert reload(accountant).active and not reload(accountant).can_push_to_accounting
    assert viewer.company_admin_level == Level.READ_ONLY


def test_foreign_company_user_id_is_not_found(client, auth):
    auth.login_as("admin")
    foreign = user_by_email("accountant@harborpoint.test")
    assert client.get(url(foreign)).status_code == 404
    response = client.post_form(url(foreign, "can-push-to-accounting"), {"granted": "yes"})
    assert response.status_code == 404
    assert client.post_form(url(foreign, "status"), {"active": "no"}).status_code == 404
    assert not reload(foreign).can_push_to_accounting and reload(foreign).active


# --- Adding users -----------------------------------------------------------------------------------

def test_company_admin_adds_a_user_who_can_log_in(app, client, auth):
    auth.login_as("admin")
    response = client.post_form("/company-admin/directory/new", {
        "name": "Field Engineer", "email": "Engineer@Ridgeline.test", "password": "long-enough-1",
        "erp_integrations_level": str(int(Level.READ_ONLY)), "company_admin_level": "0",
    })
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert b"Added Field Engineer (engineer@ridgeline.test) to the directory." in page.data
    added = user_by_email("engineer@ridgeline.test")
    assert added.company.slug == "ridgeline" and added.erp_integrations_level == Level.READ_ONLY
    [event] = audit_events("user.create", added)
    assert event.actor_name == "Company Admin (Ridgeline)"
    other = AuthActions(app.test_client())
    assert other.login("engineer@ridgeline.test", "long-enough-1").status_code == 302


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("new@ridgeline.test", "short", "The password must have at least 8 characters."),
        ("accountant@ridgeline.test", "long-enough-1",
         "&lt;accountant@ridgeline.test&gt; is already in your directory."),
        ("not-an-email", "long-enough-1", '"not-an-email" is not an e-mail address.'),
    ],
    ids=["short-password", "duplicate-email", "bad-email"],
)
def test_add_user_refuses_bad_input_with_a_message_naming_it(client, auth, email, password, message):
    auth.login_as("admin")
    before = db.session.scalar(select(db.func.count()).select_from(User))
    response = client.post_form("/company-admin/directory/new", {
        "name": "Someone", "email": email, "password": password,
        "erp_integrations_level": "0", "company_admin_level": "0",
    })
    assert response.status_code == 422
    assert message.encode() in response.data.replace(b"&#34;", b'"')
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(User)) == before


def test_adding_an_email_another_company_uses_does_not_say_it_exists_there(client, auth):
    auth.login_as("admin")
    response = client.post_form("/company-admin/directory/new", {
        "name": "Someone", "email": "viewer@harborpoint.test", "password": "long-enough-1",
        "erp_integrations_level": "0", "company_admin_level": "0",
    })
    assert response.status_code == 422
    page = response.data.decode().replace("&#34;", '"')
    assert 'The e-mail "viewer@harborpoint.test" cannot be used for a new user.' in page
    assert "already" not in page and "Harbor Point" not in page


# --- Levels -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("company_admin_level", "status"),
    [(Level.NONE, 403), (Level.READ_ONLY, 403), (Level.STANDARD, 403), (Level.ADMIN, 302)],
    ids=["none", "read-only", "standard", "admin"],
)
def test_only_a_company_admin_admin_changes_levels(client, auth, company_admin_level, status):
    make(f"viewer@{RIDGELINE}", company_admin_level=company_admin_level)
    accountant = user_by_email(f"accountant@{RIDGELINE}")
    auth.login_as("viewer")
    response = client.post_form(url(accountant, "tool-levels"), {
        "erp_integrations_level": str(int(Level.ADMIN)), "company_admin_level": "0",
    })
    assert response.status_code == status
    changed = reload(accountant).erp_integrations_level == Level.ADMIN
    assert changed is (status == 302)


def test_level_change_writes_an_audit_event_with_before_and_after(client, auth):
    accountant = user_by_email(f"accountant@{RIDGELINE}")
    auth.login_as("admin")
    response = client.post_form(url(accountant, "tool-levels"), {
        "erp_integrations_level": str(int(Level.ADMIN)), "company_admin_level": str(int(Level.READ_ONLY)),
    }, follow_redirects=True)
    assert "ERP Integrations: Standard → Admin".encode() in response.data
    assert reload(accountant).company_admin_level == Level.READ_ONLY
    details = [e.details for e in audit_events("user.set_tool_level", accountant)]
    assert details == [
        {"tool": "ERP Integrations", "before": "Standard", "after": "Admin"},
        {"tool": "Company Admin", "before": "None", "after": "Read Only"},
    ]
    assert all(e.actor_name == "Company Admin (Ridgeline)" for e in audit_events("user.set_tool_level"))


OWN_ACCESS_REFUSAL = b"You cannot change your own tool levels or privileges"


@pytest.mark.parametrize(
    ("erp_integrations_level", "company_admin_level"),
    [(Level.NONE, Level.STANDARD), (Level.ADMIN, Level.ADMIN)],
    ids=["lower-own-admin", "raise-own-erp-integrations"],
)
def test_rule_10_nobody_changes_their_own_tool_levels(
    client, auth, erp_integrations_level, company_admin_level
):
    admin = make(f"admin@{RIDGELINE}", erp_integrations_level=Level.STANDARD)
    auth.login_as("admin")
    response = client.post_form(url(admin, "tool-levels"), {
        "erp_integrations_level": str(int(erp_integrations_level)),
        "company_admin_level": str(int(company_admin_level)),
    }, follow_redirects=True)
    assert OWN_ACCESS_REFUSAL in response.data
    # One transaction: no part of the form is stored.
    admin = reload(admin)
    assert admin.company_admin_level == Level.ADMIN and admin.erp_integrations_level == Level.STANDARD
    assert audit_events("user.set_tool_level") == []


def test_rule_10_nobody_changes_their_own_project_levels_or_privilege(client, auth):
    project = first_project()
    admin = auth.login_as("admin")
    before = reload(admin).project_level(project.id)
    other_level = Level.ADMIN if before != Level.ADMIN else Level.NONE
    response = client.post_form(
        url(admin, "project-levels"), {f"project-{project.id}": str(int(other_level))}, follow_redirects=True,
    )
    assert OWN_ACCESS_REFUSAL in response.data
    assert reload(admin).project_level(project.id) == before
    held = reload(admin).can_push_to_accounting
    response = client.post_form(url(admin, "can-push-to-accounting"), {"granted": "no" if held else "yes"},
                                follow_redirects=True)
    assert OWN_ACCESS_REFUSAL in response.data
    assert reload(admin).can_push_to_accounting is held


def test_rule_10_own_page_shows_why_own_access_cannot_be_changed(client, auth):
    admin = auth.login_as("admin")
    page = client.get(url(admin)).data
    assert OWN_ACCESS_REFUSAL in page
    assert url(admin, "tool-levels").encode() not in page
    assert url(admin, "project-levels").encode() not in page


def test_rule_10_a_company_always_keeps_a_company_admin_at_admin_level(app):
    # Two admins lower each other at the same moment: the second request was let in while its
    # sender was still an admin (the stale `second_as_let_in`), after the first one committed.
    first = user_by_email(f"admin@{RIDGELINE}")
    for user in db.session.scalars(select(User).where(User.company_id == first.company_id)):
        if user.id != first.id:
            user.company_admin_level = Level.NONE
    second = make(f"viewer@{RIDGELINE}", company_admin_level=Level.ADMIN)
    second_as_let_in = User(
        id=second.id, company_id=second.company_id, name=second.name, email=second.email,
        company_admin_level=Level.ADMIN, erp_integrations_level=Level.NONE,
    )
    directory_service.set_tool_levels(
        db.session, actor=first, user_id=second.id, levels={CompanyTool.COMPANY_ADMIN: Level.STANDARD}
    )
    with pytest.raises(ServiceError, match="must keep at least one Company Admin at Admin level"):
        directory_service.set_tool_levels(
            db.session, actor=second_as_let_in, user_id=first.id,
            levels={CompanyTool.COMPANY_ADMIN: Level.STANDARD},
        )
    with pytest.raises(ServiceError, match="must keep at least one Company Admin at Admin level"):
        directory_service.set_user_active(db.session, actor=second_as_let_in, user_id=first.id, active=False)
    first = reload(first)
    assert first.company_admin_level == Level.ADMIN and first.active


def test_admin_sets_a_users_level_on_each_projects_admin_tool(client, auth):
    accountant = user_by_email(f"accountant@{RIDGELINE}")
    project = first_project()
    auth.login_as("admin")
    response = client.post_form(
        url(accountant, "project-levels"), {f"project-{project.id}": str(int(Level.STANDARD))},
        follow_redirects=True,
    )
    assert f"{project.label} Admin: None → Standard".encode() in response.data
    assert reload(accountant).project_level(project.id) == Level.STANDARD
    [event] = audit_events("user.set_project_level", accountant)
    assert event.project_id == project.id
    assert event.details["before"] == "None" and event.details["after"] == "Standard"
    # Back to None removes the permission.
    client.post_form(url(accountant, "project-levels"), {f"project-{project.id}": "0"})
    db.session.expire_all()
    assert db.session.scalar(select(ProjectPermission).where(
        ProjectPermission.user_id == accountant.id)) is None


def test_project_level_for_a_foreign_project_is_not_found_and_changes_nothing(client, auth):
    accountant = user_by_email(f"accountant@{RIDGELINE}")
    ours, theirs = first_project(), first_project("harbor-point")
    auth.login_as("admin")
    response = client.post_form(url(accountant, "project-levels"), {
        f"project-{ours.id}": str(int(Level.ADMIN)), f"project-{theirs.id}": str(int(Level.ADMIN)),
    })
    assert response.status_code == 404
    assert reload(accountant).project_level(ours.id) == Level.NONE


def test_a_project_level_that_is_not_a_level_is_refused_with_a_message(client, auth):
    accountant = user_by_email(f"accountant@{RIDGELINE}")
    project = db.session.scalar(select(Project).order_by(Project.id))
    auth.login_as("admin")
    response = client.post_form(
        url(accountant, "project-levels"), {f"project-{project.id}": "7"}, follow_redirects=True
    )
    assert f'"7" is not a permission level for project field project-{project.id}'.encode() in (
        response.data.replace(b"&#34;", b'"')
    )


# --- Can Push to Accounting --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("granter", "granter_changes", "target", "granted", "status", "holds_after"),
    [
        ("admin", {}, "accountant", True, 302, True),
        ("admin", {}, "approver", False, 302, False),
        # A Company Admin Admin without the privilege cannot pass it on, nor take it away.
        ("admin", {"can_push_to_accounting": False}, "accountant", True, 403, False),
        ("admin", {"can_push_to_accounting": False}, "approver", False, 403, True),
        # Holding the privilege is not enough without Admin on Company Admin.
        ("approver", {}, "accountant", True, 403, False),
        ("approver", {"company_admin_level": Level.STANDARD}, "accountant", True, 403, False),
        ("pm", {}, "accountant", True, 403, False),
    ],
    ids=["admin-grants", "admin-revokes", "admin-without-privilege-grants",
         "admin-without-privilege-revokes", "approver-grants", "ca-standard-approver-grants",
         "pm-grants"],
)
def test_granting_can_push_to_accounting_needs_company_admin_admin_and_the_privilege(
    client, auth, granter, granter_changes, target, granted, status, holds_after
):
    make(f"{granter}@{RIDGELINE}", **granter_changes)
    person = user_by_email(f"{target}@{RIDGELINE}")
    auth.login_as(granter)
    response = client.post_form(
        url(person, "can-push-to-accounting"), {"granted": "yes" if granted else "no"}
    )
    assert response.status_code == status
    assert reload(person).can_push_to_accounting is holds_after
    written = audit_events("user.grant_privilege" if granted else "user.revoke_privilege", person)
    assert len(written) == (1 if status == 302 else 0)


def test_granting_can_push_to_accounting_is_confirmed_and_audited_with_before_and_after(client, auth):
    accountant = user_by_email(f"accountant@{RIDGELINE}")
    auth.login_as("admin")
    page = client.post_form(
        url(accountant, "can-push-to-accounting"), {"granted": "yes"}, follow_redirects=True
    )
    assert b"Granted Can Push to Accounting to Staff Accountant (Ridgeline)." in page.data
    [event] = audit_events("user.grant_privilege", accountant)
    assert event.details == {"privilege": "Can Push to Accounting", "before": "No", "after": "Yes"}
    # Granting twice is one grant.
    again = client.post_form(
        url(accountant, "can-push-to-accounting"), {"granted": "yes"}, follow_redirects=True
    )
    assert b"already holds Can Push to Accounting" in again.data
    assert len(audit_events("user.grant_privilege", accountant)) == 1


def test_privilege_control_is_disabled_with_the_reason_for_an_admin_without_it(client, auth):
    make(f"admin@{RIDGELINE}", can_push_to_accounting=False)
    accountant = user_by_email(f"accountant@{RIDGELINE}")
    auth.login_as("admin")
    page = client.get(url(accountant)).data.decode()
    assert 'disabled aria-describedby="privilege-reason">Grant Can Push to Accounting' in page
    assert "Only someone who holds Can Push to Accounting may grant or revoke it." in page


def test_an_empty_switch_post_changes_nothing(client, auth):
    accountant = user_by_email(f"accountant@{RIDGELINE}")
    auth.login_as("admin")
    response = client.post_form(url(accountant, "can-push-to-accounting"), follow_redirects=True)
    assert b"say whether to grant or revoke" in response.data
    assert not reload(accountant).can_push_to_accounting


# --- Deactivation -----------------------------------------------------------------------------------

def test_deactivation_ends_a_session_already_open(app, client, auth):
    accountant_client = app.test_client()
    accountant_auth = AuthActions(accountant_client)
    assert accountant_auth.login(f"accountant@{RIDGELINE}").status_code == 302  # the real form
    assert accountant_client.get("/projects/").status_code == 200

    accountant = user_by_email(f"accountant@{RIDGELINE}")
    auth.login_as("admin")
    page = client.post_form(url(accountant, "status"), {"active": "no"}, follow_redirects=True)
    assert b"Deactivated Staff Accountant (Ridgeline); their open sessions have ended." in page.data

    response = accountant_client.get("/projects/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert accountant_auth.login(f"accountant@{RIDGELINE}").status_code == 200  # refused
    [event] = audit_events("user.deactivate", accountant)
    assert event.details == {"before": "Active", "after": "Deactivated"}


def test_a_reactivated_user_can_log_in_again(app, client, auth):
    accountant = user_by_email(f"accountant@{RIDGELINE}")
    auth.login_as("admin")
    client.post_form(url(accountant, "status"), {"active": "no"})
    page = client.post_form(url(accountant, "status"), {"active": "yes"}, follow_redirects=True)
    assert b"Reactivated Staff Accountant (Ridgeline)" in page.data
    assert AuthActions(app.test_client()).login(f"accountant@{RIDGELINE}").status_code == 302
    [event] = audit_events("user.reactivate", accountant)
    assert event.details == {"before": "Deactivated", "after": "Active"}


def test_a_user_cannot_deactivate_themself(client, auth):
    admin = auth.login_as("admin")
    detail = client.get(url(admin)).data.decode()
    assert "You cannot deactivate yourself." in detail
    response = client.post_form(url(admin, "status"), {"active": "no"}, follow_redirects=True)
    assert response.status_code == 200
    assert b"You cannot deactivate yourself" in response.data
    assert reload(admin).active
