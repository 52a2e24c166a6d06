"""The company directory: companies, users, their tool levels and privileges."""
from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from portal.db.search import text_search
from portal.models import (
    ERP_SYSTEMS,
    Company,
    CompanyTool,
    Level,
    Project,
    ProjectPermission,
    User,
)
from portal.passwords import hash_password
from portal.services import NotFound, PermissionDenied, ServiceError, transaction
from portal.services.audit import record_event
from portal.services.login import end_other_sessions

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_company(session: Session, *, name: str, slug: str, erp_system: str, **settings) -> Company:
    if erp_system not in ERP_SYSTEMS:
        raise ServiceError(f'"{erp_system}" is not a supported ERP system ({", ".join(ERP_SYSTEMS)}).')
    if session.scalar(select(Company).where(Company.slug == slug)):
        raise ServiceError(f'A company with the slug "{slug}" already exists.')
    with transaction(session):
        company = Company(name=name.strip(), slug=slug, erp_system=erp_system, **settings)
        session.add(company)
        session.flush()
        record_event(
            session, company_id=company.id, actor=None, action="company.create",
            object_type="company", object_id=company.id, object_label=company.name,
        )
    return company


def create_user(
    session: Session,
    *,
    company: Company,
    actor: User | None,
    email: str,
    name: str,
    password: str,
    password_hash_method: str | None = None,
    min_password_length: int = 8,
    erp_integrations_level: Level = Level.NONE,
    company_admin_level: Level = Level.NONE,
    can_push_to_accounting: bool = False,
    password_hash: str | None = None,
) -> User:
    """A user with `password` hashed by `password_hash_method` (the app's PASSWORD_HASH_METHOD),
    or with a `password_hash` made beforehand (the demo accounts share one)."""
    if password_hash is None and password_hash_method is None:
        raise TypeError("create_user needs password_hash_method to hash the password with.")
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email):
        raise ServiceError(f'"{email}" is not an e-mail address.')
    if not name.strip():
        raise ServiceError("A user needs a name.")
    if password_hash is None and len(password) < min_password_length:
        raise ServiceError(f"The password must have at least {min_password_length} characters.")
    if session.scalar(select(User).where(func.lower(User.email) == email)):
        raise ServiceError(f'A user with the e-mail "{email}" already exists.')
    with transaction(session):
        user = User(
            company_id=company.id,
            email=email,
            name=name.strip(),
            password_hash=password_hash or hash_password(password, password_hash_method),
            erp_integrations_level=erp_integrations_level,
            company_admin_level=company_admin_level,
            can_push_to_accounting=can_push_to_accounting,
        )
        session.add(user)
        session.flush()
        record_event(
            session, company_id=company.id, actor=actor, action="user.create", object_type="user",
            object_id=user.id, object_label=user.email,
            details={
                "ERP Integrations": Level(erp_integrations_level).label,
                "Company Admin": Level(company_admin_level).label,
                "Can Push to Accounting": can_push_to_accounting,
            },
        )
    return user


# --- Company Admin → Directory ------------------------------------------------------------------

CAN_PUSH_TO_ACCOUNTING = "Can Push to Accounting"


def directory_query(company_id: int, search: str = "") -> Select:
    """The company's users by name, optionally those whose name or e-mail contains `search`."""
    query = select(User).where(User.company_id == company_id)
    if search:
        query = query.where(text_search(search, User.name, User.email))
    return query.order_by(User.name, User.id)


def company_user(session: Session, company_id: int, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.company_id != company_id:
        raise NotFound("That user does not exist, or is not part of your company.")
    return user


def company_projects(session: Session, company_id: int) -> list[Project]:
    return list(session.scalars(
        select(Project).where(Project.company_id == company_id).order_by(Project.number)
    ))


def _require_directory_admin(actor: User) -> None:
    if actor.tool_level(CompanyTool.COMPANY_ADMIN) < Level.ADMIN:
        raise PermissionDenied("You need Admin on the Company Admin tool to change the directory.")


# Rule 10: nobody changes their own tool levels or privileges, and a company always keeps at
# least one active Company Admin at Admin level.
OWN_ACCESS_REFUSAL = (
    "You cannot change your own tool levels or privileges; another Company Admin at Admin level must do it."
)


def _refuse_own_access(actor: User, user: User) -> None:
    if user.id == actor.id:
        raise ServiceError(OWN_ACCESS_REFUSAL)


def is_last_company_admin(session: Session, user: User) -> bool:
    """Whether no other active user of `user`'s company has Admin on Company Admin.

    The other admins' rows are locked (PostgreSQL) so two admins lowering each other at once
    cannot both see the other one still there; SQLite's write lock already orders them.
    """
    others = session.scalars(
        select(User.id)
        .where(
            User.company_id == user.company_id,
            User.id != user.id,
            User.active.is_(True),
            User.company_admin_level == int(Level.ADMIN),
        )
        .with_for_update()
    ).all()
    return not others


def _keep_a_company_admin(session: Session, user: User, change: str) -> None:
    """Refuse to `change` ("lower", "deactivate") the company's last active Company Admin Admin."""
    if is_last_company_admin(session, user):
        raise ServiceError(
            f"You cannot {change} {user.name}: the company must keep at least one Company Admin "
            "at Admin level. Give someone else Admin on Company Admin first."
        )


def _user_event(session: Session, actor: User, user: User, action: str, **details) -> None:
    record_event(
        session, company_id=user.company_id, actor=actor, action=action, object_type="user",
        object_id=user.id, object_label=f"{user.name} <{user.email}>",
        project_id=details.pop("project_id", None), details=details,
    )


def add_user(
    session: Session,
    *,
    actor: User,
    email: str,
    name: str,
    password: str,
    password_hash_method: str,
    erp_integrations_level: Level = Level.NONE,
    company_admin_level: Level = Level.NONE,
    min_password_length: int = 8,
) -> User:
    """A Company Admin adds a user to their own company's directory.

    An e-mail already used in another company is refused without saying so: the directory of
    one company must not tell anyone who works at another.
    """
    _require_directory_admin(actor)
    existing = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if existing is not None:
        if existing.company_id == actor.company_id:
            raise ServiceError(f"{existing.name} <{existing.email}> is already in your directory.")
        raise ServiceError(
            f'The e-mail "{email.strip().lower()}" cannot be used for a new user. '
            "Check it with the person, or use another address."
        )
    return create_user(
        session, company=actor.company, actor=actor, email=email, name=name, password=password,
        password_hash_method=password_hash_method, min_password_length=min_password_length,
        erp_integrations_level=erp_integrations_level, company_admin_level=company_admin_level,
    )


def set_tool_levels(
    session: Session, *, actor: User, user_id: int, levels: Mapping[CompanyTool, Level]
) -> list[str]:
    """Set the user's level on company tools; returns the changes made ("ERP Integrations: A → B")."""
    _require_directory_admin(actor)
    changes: list[str] = []
    with transaction(session):
        user = company_user(session, actor.company_id, user_id)
        for tool, level in levels.items():
            tool, level = CompanyTool(tool), Level(level)
            before = user.tool_level(tool)
            if before == level:
                continue
            _refuse_own_access(actor, user)
            if tool is CompanyTool.COMPANY_ADMIN and before == Level.ADMIN:
                _keep_a_company_admin(session, user, "lower")
            setattr(user, f"{tool.value}_level", int(level))
            changes.append(f"{tool.label}: {before.label} → {level.label}")
            _user_event(
                session, actor, user, "user.set_tool_level",
                tool=tool.label, before=before.label, after=level.label,
            )
    return changes


def set_project_levels(
    session: Session, *, actor: User, user_id: int, levels: Mapping[int, Level]
) -> list[str]:
    """Set the user's level on the Admin tool of each given project of the company."""
    _require_directory_admin(actor)
    changes: list[str] = []
    with transaction(session):
        user = company_user(session, actor.company_id, user_id)
        projects = {p.id: p for p in company_projects(session, actor.company_id)}
        permissions = {p.project_id: p for p in user.project_permissions}
        for project_id, level in levels.items():
            if Level(level) != user.project_level(project_id):
                _refuse_own_access(actor, user)
            project = projects.get(project_id)
            if project is None:
                raise NotFound(f"Project {project_id} does not exist, or is not part of your company.")
            level = Level(level)
            permission = permissions.get(project_id)
            before = Level(permission.admin_level) if permission else Level.NONE
            if before == level:
                continue
            if permission is None:
                user.project_permissions.append(
                    ProjectPermission(project_id=project_id, admin_level=int(level))
                )
            elif level == Level.NONE:
                user.project_permissions.remove(permission)
            else:
                permission.admin_level = int(level)
            changes.append(f"{project.label} Admin: {before.label} → {level.label}")
            _user_event(
                session, actor, user, "user.set_project_level", project_id=project.id,
                tool="Admin", project=project.label, before=before.label, after=level.label,
            )
    return changes


def set_can_push_to_accounting(session: Session, *, actor: User, user_id: int, granted: bool) -> bool:
    """Grant or revoke the privilege; only a Company Admin Admin who holds it may pass it on.

    Returns whether anything changed (granting it twice is one grant).
    """
    _require_directory_admin(actor)
    if not actor.can_push_to_accounting:
        raise PermissionDenied(
            f"Only someone who holds {CAN_PUSH_TO_ACCOUNTING} may grant or revoke it."
        )
    with transaction(session):
        user = company_user(session, actor.company_id, user_id)
        if user.can_push_to_accounting == granted:
            return False
        _refuse_own_access(actor, user)
        user.can_push_to_accounting = granted
        _user_event(
            session, actor, user,
            "user.grant_privilege" if granted else "user.revoke_privilege",
            privilege=CAN_PUSH_TO_ACCOUNTING, before="Yes" if not granted else "No",
            after="Yes" if granted else "No",
        )
    return True


def set_user_active(session: Session, *, actor: User, user_id: int, active: bool) -> bool:
    """Deactivate (ending every open session of the user at once) or reactivate a user."""
    _require_directory_admin(actor)
    with transaction(session):
        user = company_user(session, actor.company_id, user_id)
        if user.id == actor.id and not active:
            raise ServiceError("You cannot deactivate yourself; another Company Admin Admin must do it.")
        if user.active == active:
            return False
        if not active and user.company_admin_level == Level.ADMIN:
            _keep_a_company_admin(session, user, "deactivate")
        user.active = active
        if not active:
            # The session cookie carries the version, so every open session fails to load.
            user.session_version += 1
        _user_event(
            session, actor, user, "user.reactivate" if active else "user.deactivate",
            before="Deactivated" if active else "Active", after="Active" if active else "Deactivated",
        )
    return True


# Letters and digits nobody misreads when copying from a screen (no 0/O, 1/l/I, 5/S …).
_TEMPORARY_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789"  # noqa: S105
TEMPORARY_PASSWORD_LENGTH = 14


def password_reset_refusal(actor: User, person: User) -> str | None:
    """Why `actor` may not reset `person`'s password, or None: the disabled Reset password
    button's reason and the server's refusal, in the same words."""
    if person.id == actor.id:
        return "You cannot reset your own password; change it on your Account page."
    if person.directory_name is not None:
        # A portal password would turn a directory user into a local account the directory no
        # longer controls (disabling them there would no longer lock them out).
        return (
            f"{person.name} signs in with the company directory as {person.directory_name}: "
            "their password is changed in the directory, not in the portal."
        )
    return None


def reset_password(session: Session, *, actor: User, user_id: int, password_hash_method: str) -> str:
    """Company Admin → Directory → Reset password: returns a temporary password, to be shown
    once. Its holder must choose a new password at their next log-in; every session the user
    has open ends now."""
    _require_directory_admin(actor)
    person = company_user(session, actor.company_id, user_id)
    refusal = password_reset_refusal(actor, person)
    if refusal:
        raise ServiceError(refusal)
    temporary = "".join(
        secrets.choice(_TEMPORARY_PASSWORD_ALPHABET) for _ in range(TEMPORARY_PASSWORD_LENGTH)
    )
    # The hash is slow on purpose: end the request's transaction first (on SQLite a POST's
    # holds the write lock), so the write below is all that waits on the database.
    session.commit()
    new_hash = hash_password(temporary, password_hash_method)
    with transaction(session):
        user = company_user(session, actor.company_id, user_id)
        user.password_hash = new_hash
        user.must_change_password = True
        user.session_version += 1
        end_other_sessions(session, user_id=user.id, keep_token=None)
        _user_event(session, actor, user, "user.reset_password")
    return temporary
