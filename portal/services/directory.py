"""The company directory: companies, users, their tool levels and privileges."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.auth.passwords import hash_password
from portal.models import ERP_SYSTEMS, Company, Level, User
from portal.services import ServiceError, transaction
from portal.services.audit import record_event

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
    min_password_length: int = 8,
    erp_integrations_level: Level = Level.NONE,
    company_admin_level: Level = Level.NONE,
    can_push_to_accounting: bool = False,
    password_hash: str | None = None,
) -> User:
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
            password_hash=password_hash or hash_password(password),
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
