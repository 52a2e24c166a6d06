"""Company Admin → ERP settings: the company's connector, its settings, and Test connection.

The password is write-only: it is stored apart from the other settings and no answer of this
module carries it (a password typed inside a database URL is taken out of the URL first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from portal.erp import connectors
from portal.erp.base import ErpError
from portal.erp.sealed_password import is_sealed, seal
from portal.models import Company, CompanyTool, ErpConnection, Level, User
from portal.services import PermissionDenied, ServiceError, transaction
from portal.services.audit import record_event

SHOWN_COST_TYPES = 9
SHOWN_CODES = 5


@dataclass(frozen=True)
class ConnectorSettings:
    kind: str
    label: str
    fields: list[tuple[str, str, str]]  # (key, label, value) of every setting but the password
    takes_password: bool
    has_password: bool


@dataclass(frozen=True)
class ErpSettingsView:
    kind: str
    # Every connector the company's ERP can use, each with its settings, so choosing one shows
    # what it needs without a round trip.
    connectors: list[ConnectorSettings]
    writes_enabled: bool  # only the Sage 100 Contractor database connector can write
    from_environment: bool  # no stored choice: the environment provisions the company


@dataclass(frozen=True)
class ConnectionCheck:
    succeeded: bool
    message: str


def kinds_for(company: Company) -> list[tuple[str, str]]:
    return [
        (kind, label)
        for kind, label in connectors.CONNECTOR_KINDS.items()
        if connectors.KIND_ERP.get(kind, company.erp_system) == company.erp_system
    ]


def erp_settings_view(session: Session, company_id: int, config: Mapping[str, Any]) -> ErpSettingsView:
    company = session.get(Company, company_id)
    stored = company.erp_connection
    if stored is not None:
        kind, settings, has_password = stored.kind, dict(stored.settings or {}), bool(stored.secret)
        writes = stored.writes_enabled
    else:
        kind, settings, writes = connectors.provisioned_settings(company, config)
        has_password = (
            bool(settings.pop("password", "")) or _url_password(settings.get("url", "")) is not None
        )
    if "url" in settings:
        settings["url"] = _without_password(settings["url"])
    choices = []
    for choice, label in kinds_for(company):
        own = settings if choice == kind else {}
        keys = connectors.KIND_SETTINGS[choice]
        choices.append(
            ConnectorSettings(
                kind=choice,
                label=label,
                fields=[
                    (key, name, str(own.get(key, "")))
                    for key, name in keys
                    if key not in connectors.SECRET_SETTINGS
                ],
                takes_password=any(key in connectors.SECRET_SETTINGS for key, _ in keys),
                has_password=has_password and choice == kind,
            )
        )
    return ErpSettingsView(
        kind=kind, connectors=choices, writes_enabled=writes, from_environment=stored is None
    )


def save_erp_settings(
    session: Session,
    *,
    actor: User,
    kind: str,
    settings: Mapping[str, str],
    password: str = "",
    writes_enabled: bool = False,
    secret_key: str,
) -> str:
    """Store the company's connector; a blank password keeps the stored one, and a typed one is
    stored sealed under `secret_key`. Returns the message."""
    _require_admin(actor)
    company = session.get(Company, actor.company_id)
    if kind not in dict(kinds_for(company)):
        raise ServiceError(
            f"Choose a connector for {company.erp_name}: "
            f"{', '.join(label for _, label in kinds_for(company))}."
        )
    wanted = {
        key: (settings.get(key) or "").strip()[:500]
        for key, _label in connectors.KIND_SETTINGS[kind]
        if key not in connectors.SECRET_SETTINGS
    }
    if "url" in wanted:
        try:
            typed_password = _url_password(wanted["url"])
        except ArgumentError:
            raise ServiceError(
                f'Database URL "{wanted["url"][:80]}" is not a URL; write it as '
                "mssql+pymssql://login@server/CompanyDatabase."
            ) from None
        if typed_password is not None:
            password = password or typed_password
            wanted["url"] = _without_password(wanted["url"])
    missing = [label for key, label in connectors.KIND_SETTINGS[kind] if key in wanted and not wanted[key]]
    if missing:
        raise ServiceError(f"{connectors.CONNECTOR_KINDS[kind]} needs: {', '.join(missing)}.")
    writes_enabled = writes_enabled and kind == connectors.SAGE100_DATABASE
    with transaction(session):
        stored = company.erp_connection
        if stored is None:
            stored = ErpConnection(company_id=company.id, kind=kind, settings={}, secret="")
            session.add(stored)
        kept_password = stored.kind == kind and not password
        stored.kind, stored.settings, stored.writes_enabled = kind, wanted, writes_enabled
        if not kept_password:
            stored.secret = seal(password.strip(), secret_key)
        record_event(
            session,
            company_id=company.id,
            actor=actor,
            action="erp_settings.save",
            object_type="company",
            object_id=company.id,
            object_label=company.name,
            # Never the password: only whether it changed.
            details={
                "kind": kind,
                "settings": wanted,
                "password_changed": bool(password),
                "writes_enabled": writes_enabled,
            },
        )
    message = f"Saved the ERP settings: {connectors.CONNECTOR_KINDS[kind]}."
    if writes_enabled:
        message += " Writing to the Sage database is ON."
    return message


def test_connection(session: Session, *, actor: User, config: Mapping[str, Any]) -> ConnectionCheck:
    """Read the cost types and a few codes through the company's connector and say what was found,
    or exactly what failed. Recorded in the audit log."""
    _require_admin(actor)
    company = session.get(Company, actor.company_id)
    try:
        connector = connectors.connector_for(company, config)
        cost_types = connector.fetch_cost_types()
        codes = connector.fetch_standard_cost_codes()
    except ErpError as error:
        check = ConnectionCheck(False, f"Test connection failed: {error}")
    except Exception as error:  # a driver's own error (login refused, server not found): say it as it is
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        check = ConnectionCheck(False, f"Test connection failed: {type(error).__name__}: {first_line}")
    else:
        shown_types = ", ".join(f"{t.code} {t.name}" for t in cost_types[:SHOWN_COST_TYPES]) or "none"
        shown_codes = ", ".join(f"{c.code} {c.description}" for c in codes[:SHOWN_CODES]) or "none"
        check = ConnectionCheck(
            True,
            (
                f"Connected to {company.erp_name}: {len(cost_types)} cost types ({shown_types}); "
                f"{len(codes)} cost codes (first: {shown_codes})."
            ),
        )
    with transaction(session):
        record_event(
            session,
            company_id=company.id,
            actor=actor,
            action="erp_settings.test_connection",
            object_type="company",
            object_id=company.id,
            object_label=company.name,
            details={"succeeded": check.succeeded, "message": check.message[:500]},
        )
    return check


def _require_admin(actor: User) -> None:
    if actor.tool_level(CompanyTool.COMPANY_ADMIN) < Level.ADMIN:
        raise PermissionDenied("You need Admin on the Company Admin tool.")


def _url_password(url: str) -> str | None:
    return make_url(url).password if url.strip() else None


def _without_password(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    # URL.set(password=None) would keep the password: None there means "unchanged".
    return parsed._replace(password=None).render_as_string(hide_password=False) if parsed.password else url


def seal_stored_passwords(session: Session, secret_key: str) -> list[str]:
    """Seal every ERP settings password still stored as plain text (from before sealing), under
    this portal's key. Run by `portal upgrade`; returns the companies' names."""
    with transaction(session):
        stored = session.scalars(select(ErpConnection).where(ErpConnection.secret != "")).all()
        plain = [connection for connection in stored if not is_sealed(connection.secret)]
        for connection in plain:
            connection.secret = seal(connection.secret, secret_key)
        return [connection.company.name for connection in plain]
