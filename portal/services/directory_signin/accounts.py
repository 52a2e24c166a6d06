"""The portal side of directory sign-in: which portal user a directory entry signs in as.

The directory proves who someone is; the portal's Directory still decides what they may do.
A person the portal has never seen becomes a user of the directory's company with no access
at all (every level None) until a Company Admin grants some. When LDAP_GROUP_MAP is set, the
tool levels and privilege it names follow the person's groups at each sign-in (the ones it does
not name stay as the Company Admin set them), and every change is in the audit log.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Company, CompanyTool, Level, User, utcnow
from portal.services import transaction
from portal.services.audit import record_event
from portal.services.directory import is_last_company_admin
from portal.services.directory_signin.ldap import (
    DirectoryEntry,
    DirectoryUnavailable,
    SignInFailure,
    authenticate,
    look_up,
)
from portal.services.directory_signin.settings import CAN_PUSH_TO_ACCOUNTING, DirectorySettings

WRONG_NAME_OR_PASSWORD = "Wrong e-mail or password."  # noqa: S105 (a message)
REFUSALS = {
    SignInFailure.WRONG_PASSWORD: WRONG_NAME_OR_PASSWORD,
    SignInFailure.UNKNOWN_USER: WRONG_NAME_OR_PASSWORD,  # the same words: no probing for names
    SignInFailure.DISABLED: "Your directory account is disabled. Ask your IT department.",
}
NO_MAIL = (
    "Your directory entry has no e-mail address, which the portal needs. "
    "Ask your IT department to add one."
)
NOT_A_DIRECTORY_USER = (
    "This e-mail belongs to a portal account with its own password: log in with that password."
)
DEACTIVATED = "Your portal account is deactivated. Ask your Company Admin."


def unavailable_message(settings: DirectorySettings) -> str:
    return (
        f"The company directory did not answer (waited {settings.timeout:g} seconds), so you "
        "cannot log in with your directory password now. Try again in a few minutes; "
        "people with a portal password can still log in."
    )


@dataclass(frozen=True)
class DirectorySignIn:
    user: User | None
    refusal: str | None = None  # the message the log-in page shows when `user` is None


def sign_in_with_directory(
    session: Session, settings: DirectorySettings, name: str, password: str
) -> DirectorySignIn:
    """Check `name` (directory name or e-mail) and `password` with the directory, then find or
    create the portal user they sign in as. The password is only passed on, never stored."""
    # No transaction may wait on the directory: end the caller's (read) transaction first.
    session.commit()
    found = authenticate(settings, name, password)
    if found is SignInFailure.UNAVAILABLE:
        return DirectorySignIn(None, unavailable_message(settings))
    if isinstance(found, SignInFailure):
        return DirectorySignIn(None, REFUSALS[found])
    return _signed_in_user(session, settings, found)


def sign_in_from_proxy(session: Session, settings: DirectorySettings, name: str) -> DirectorySignIn:
    """The person a trusted reverse proxy (which already did Windows sign-in) names, looked up
    with the service account: the same portal user, levels and groups as a sign-in with the
    password would give. `DOMAIN\\name` and `name@REALM` are taken as `name`."""
    name = name.rpartition("\\")[2].partition("@")[0].strip()
    session.commit()
    if not name or not settings.can_search:
        return DirectorySignIn(None, WRONG_NAME_OR_PASSWORD)
    try:
        found = look_up(settings, [name]).get(name)
    except DirectoryUnavailable:
        return DirectorySignIn(None, unavailable_message(settings))
    if found is None:
        return DirectorySignIn(None, REFUSALS[SignInFailure.UNKNOWN_USER])
    if found.disabled:
        return DirectorySignIn(None, REFUSALS[SignInFailure.DISABLED])
    return _signed_in_user(session, settings, found)


def _signed_in_user(session: Session, settings: DirectorySettings, found: DirectoryEntry) -> DirectorySignIn:
    if not found.mail:
        return DirectorySignIn(None, NO_MAIL)
    with transaction(session):
        company = session.scalar(select(Company).where(Company.slug == settings.company_slug))
        if company is None:
            raise LookupError(f'LDAP_COMPANY: no company has the slug "{settings.company_slug}".')
        user = _portal_user(session, found)
        if user is not None and (user.password_hash or user.company_id != company.id):
            # Someone with a portal password (maybe a Company Admin) is never taken over by a
            # directory entry that claims their e-mail; nor is another company's user.
            return DirectorySignIn(None, NOT_A_DIRECTORY_USER)
        if user is None:
            user = _new_user(session, company, found)
        elif not user.active:
            return DirectorySignIn(None, DEACTIVATED)
        _update_from_entry(session, user, found)
        apply_group_map(session, settings, user, found.groups)
    return DirectorySignIn(user)


def _portal_user(session: Session, entry: DirectoryEntry) -> User | None:
    user = session.scalar(select(User).where(User.directory_name == entry.uid))
    if user is None:
        user = session.scalar(select(User).where(func.lower(User.email) == entry.mail))
    return user


def _new_user(session: Session, company: Company, entry: DirectoryEntry) -> User:
    user = User(
        company_id=company.id, email=entry.mail, name=entry.display_name[:120],
        password_hash="", directory_name=entry.uid,
        erp_integrations_level=Level.NONE, company_admin_level=Level.NONE,
        can_push_to_accounting=False,
    )
    session.add(user)
    session.flush()
    record_event(
        session, company_id=company.id, actor=None, action="user.create", object_type="user",
        object_id=user.id, object_label=user.email,
        details={"source": "directory sign-in", "directory name": entry.uid,
                 "ERP Integrations": "None", "Company Admin": "None", CAN_PUSH_TO_ACCOUNTING: False},
    )
    return user


def _update_from_entry(session: Session, user: User, entry: DirectoryEntry) -> None:
    user.directory_name = entry.uid
    if user.directory_disabled_at is not None:
        user.directory_disabled_at = None
    if entry.display_name and user.name != entry.display_name[:120]:
        user.name = entry.display_name[:120]
    if user.email != entry.mail and not session.scalar(
        select(User.id).where(func.lower(User.email) == entry.mail, User.id != user.id)
    ):
        user.email = entry.mail


def apply_group_map(
    session: Session, settings: DirectorySettings, user: User, groups: frozenset[str]
) -> list[str]:
    """Set the levels and privilege the group map names from `groups`; returns the changes."""
    if not settings.group_map:
        return []
    mapped_tools = {tool for grant in settings.group_map.values() for tool in grant.levels}
    maps_privilege = any(grant.can_push_to_accounting for grant in settings.group_map.values())
    held = [grant for group, grant in settings.group_map.items() if group in groups]
    changes: list[str] = []
    for tool in sorted(mapped_tools):
        level = max((grant.levels.get(tool, Level.NONE) for grant in held), default=Level.NONE)
        before = user.tool_level(tool)
        if (
            CompanyTool(tool) == CompanyTool.COMPANY_ADMIN and before == Level.ADMIN and level < Level.ADMIN
            and is_last_company_admin(session, user)
        ):
            # Rule 10 holds whatever the directory's groups say: the company keeps a Company Admin.
            changes.append(
                f"{CompanyTool(tool).label}: kept at {before.label}, since {user.name} is the "
                f"company's last Company Admin (the groups give {level.label})"
            )
            continue
        if before != level:
            setattr(user, f"{CompanyTool(tool).value}_level", int(level))
            changes.append(f"{CompanyTool(tool).label}: {before.label} → {level.label}")
    if maps_privilege:
        granted = any(grant.can_push_to_accounting for grant in held)
        if user.can_push_to_accounting != granted:
            user.can_push_to_accounting = granted
            changes.append(f"{CAN_PUSH_TO_ACCOUNTING}: {_yes(not granted)} → {_yes(granted)}")
    if changes:
        record_event(
            session, company_id=user.company_id, actor=None, action="user.directory_groups",
            object_type="user", object_id=user.id, object_label=f"{user.name} <{user.email}>",
            details={"changes": changes, "groups": sorted(groups)},
        )
    return changes


def _yes(value: bool) -> str:
    return "Yes" if value else "No"


def end_sessions_of_disabled_accounts(session: Session, settings: DirectorySettings) -> list[str]:
    """Every directory user the directory now has disabled or removed: their open portal
    sessions end (once, audited). Returns their directory names.

    Needs the service account (a DN template cannot look anyone up); an unavailable directory
    ends nobody's session.
    """
    if not settings.can_search:
        return []
    company_id = session.scalar(select(Company.id).where(Company.slug == settings.company_slug))
    users = session.execute(
        select(User.id, User.directory_name).where(
            User.company_id == company_id, User.directory_name.is_not(None),
            User.directory_disabled_at.is_(None), User.active.is_(True),
        )
    ).all()
    session.commit()  # nothing held while the directory answers
    if not users:
        return []
    try:
        entries = look_up(settings, [directory_name for _id, directory_name in users])
    except DirectoryUnavailable:
        return []
    gone = [
        (user_id, directory_name)
        for user_id, directory_name in users
        if (entry := entries.get(directory_name)) is None
        or entry.disabled
        or entry.uid.lower() != directory_name.lower()
    ]
    if not gone:
        return []
    with transaction(session):
        for user_id, directory_name in gone:
            user = session.get(User, user_id)
            user.directory_disabled_at = utcnow()
            user.session_version += 1  # the cookie carries the version: every session ends
            record_event(
                session, company_id=user.company_id, actor=None, action="user.directory_disabled",
                object_type="user", object_id=user.id, object_label=f"{user.name} <{user.email}>",
                details={"directory name": directory_name, "sessions": "ended"},
            )
    return [name for _id, name in gone]
