"""Which connector the data sync uses for a company, and with which settings.

A Company Admin chooses the company's connector on the ERP settings page (stored per company, see
`portal.models.erp_connection`). A company without a stored choice gets the one the environment
provisions: ERP_CONNECTOR is either one kind for every company or a per-company list keyed by
slug, "ridgeline=sage100_database, harbor-point=reference" (companies not listed use the reference
ERP). The kinds:

- reference: the embedded reference ERP at ERP_DATABASE_URL (SQLite or PostgreSQL).
- sage100_database: the Sage 100 Contractor company database at ERP_DATABASE_URL
  (`mssql+pymssql://login:password@server/CompanyDatabase`, the optional extra [sqlserver]);
  "{company}" in the URL is replaced by the company's slug.
- sage100_files: Sage 100 Contractor import files in SAGE100_INBOX_DIR / SAGE100_OUTBOX_DIR
  ("{company}" likewise).
- sage300_odbc: Sage 300 CRE through the Timberline ODBC driver's DSN (SAGE300_ODBC_DSN,
  SAGE300_ODBC_USER, SAGE300_ODBC_PASSWORD; the optional extra [sage300]).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from portal.erp import formats
from portal.erp.base import ErpConnector, ErpError
from portal.erp.reference import ReferenceErp
from portal.erp.reference_sage300 import REFERENCE_EXPORT_NOTE as REFERENCE_SAGE300_EXPORT_NOTE
from portal.erp.sage100_database import WRITING_OFF, Sage100DatabaseConnector
from portal.erp.sage100_files import Sage100FileConnector
from portal.erp.sage300_odbc import EXPORT_NOTE as SAGE300_EXPORT_NOTE
from portal.erp.sage300_odbc import Sage300OdbcConnector, timberline_query
from portal.models import StandardCostCode

REFERENCE = "reference"
SAGE100_DATABASE = "sage100_database"
SAGE100_FILES = "sage100_files"
SAGE300_ODBC = "sage300_odbc"
CONNECTOR_KINDS = {
    REFERENCE: "Reference ERP (built in)",
    SAGE100_DATABASE: "Sage 100 Contractor database (SQL Server)",
    SAGE100_FILES: "Sage 100 Contractor files",
    SAGE300_ODBC: "Sage 300 CRE ODBC (Timberline driver)",
}
# The ERP each kind serves (the reference ERP serves both).
KIND_ERP = {SAGE100_DATABASE: formats.SAGE100, SAGE100_FILES: formats.SAGE100, SAGE300_ODBC: formats.SAGE300}
# The settings each kind takes, as (key, label); "password" is the one secret, never shown back.
KIND_SETTINGS = {
    REFERENCE: (),
    SAGE100_DATABASE: (("url", "Database URL (without the password)"), ("password", "SQL login password")),
    SAGE100_FILES: (
        ("inbox", "Folder Sage's files are read from"),
        ("outbox", "Folder import files are written to"),
    ),
    SAGE300_ODBC: (
        ("dsn", "ODBC data source name (DSN)"),
        ("user", "Sage 300 CRE user"),
        ("password", "Password"),
    ),
}
SECRET_SETTINGS = {"password"}

# One engine per ERP database for the whole process: a sync per minute must not open a new pool.
_reference_erps: dict[str, ReferenceErp] = {}
_sage100_databases: dict[tuple[str, bool], Sage100DatabaseConnector] = {}
_reference_lock = threading.Lock()


def connector_kind(slug: str, setting: str | None) -> str:
    """The connector kind the setting gives the company with this slug."""
    setting = (setting or REFERENCE).strip()
    if "=" not in setting:
        kind = setting or REFERENCE
    else:
        kinds = {}
        for entry in setting.split(","):
            key, _, value = entry.partition("=")
            if key.strip():
                kinds[key.strip()] = value.strip()
        kind = kinds.get(slug, REFERENCE)
    if kind not in CONNECTOR_KINDS:
        raise ErpError(
            f'The ERP_CONNECTOR setting names "{kind}" for company "{slug}"; '
            f"use {' or '.join(CONNECTOR_KINDS)}."
        )
    return kind


def reference_erp(url: str) -> ReferenceErp:
    with _reference_lock:
        erp = _reference_erps.get(url)
        if erp is None:
            erp = _reference_erps[url] = ReferenceErp(url)
        return erp


def dispose_reference_erps() -> None:
    """Close every cached ERP database pool (tests, and the end of a CLI command)."""
    with _reference_lock:
        for erp in _reference_erps.values():
            erp.dispose()
        _reference_erps.clear()
        for connector in _sage100_databases.values():
            connector.dispose()
        _sage100_databases.clear()


def provisioned_settings(company: Any, config: Mapping[str, Any]) -> tuple[str, dict[str, str], bool]:
    """(kind, settings, writes enabled) as the environment provisions the company."""
    kind = connector_kind(company.slug, config.get("ERP_CONNECTOR"))
    settings = {
        REFERENCE: {},
        SAGE100_DATABASE: {"url": config.get("ERP_DATABASE_URL", "")},
        SAGE100_FILES: {
            "inbox": config.get("SAGE100_INBOX_DIR", ""),
            "outbox": config.get("SAGE100_OUTBOX_DIR", ""),
        },
        SAGE300_ODBC: {
            "dsn": config.get("SAGE300_ODBC_DSN", ""),
            "user": config.get("SAGE300_ODBC_USER", ""),
            "password": config.get("SAGE300_ODBC_PASSWORD", ""),
        },
    }[kind]
    return kind, settings, False


def connector_for(company: Any, config: Mapping[str, Any]) -> ErpConnector:
    """A fresh connector for one sync run of the company (the file connector writes one import
    file per connector, so never reuse one across runs). The company's stored ERP settings win
    over the environment's."""
    stored = getattr(company, "erp_connection", None)
    if stored is not None:
        kind, writes = stored.kind, stored.writes_enabled
        settings = stored.connector_settings(config["SECRET_KEY"])
    else:
        kind, settings, writes = provisioned_settings(company, config)
    return build_connector(company, kind, settings, writes, config)


def export_note(company: Any, config: Mapping[str, Any]) -> str | None:
    """What an approver must know on Ready to Update about where approved codes go, without
    reaching the ERP (the screen must not wait on it): None when the export does what it says."""
    stored = getattr(company, "erp_connection", None)
    if stored is not None:
        kind, writes = stored.kind, stored.writes_enabled
    else:
        try:
            kind, _settings, writes = provisioned_settings(company, config)
        except ErpError as error:
            return str(error)
    if kind == SAGE300_ODBC:
        return SAGE300_EXPORT_NOTE
    if kind == REFERENCE and company.erp_system == formats.SAGE300:
        return REFERENCE_SAGE300_EXPORT_NOTE
    if kind == SAGE100_DATABASE and not writes:
        return (
            f"{WRITING_OFF}: approving records the decision in the portal, and the accountant adds "
            "each approved code to the job in 6-2 Budgets in Sage 100 Contractor."
        )
    return None


def build_connector(
    company: Any, kind: str, settings: Mapping[str, str], writes_enabled: bool, config: Mapping[str, Any]
) -> ErpConnector:
    if kind not in CONNECTOR_KINDS:
        raise ErpError(f'Unknown ERP connector "{kind}"; use {" or ".join(CONNECTOR_KINDS)}.')
    erp = KIND_ERP.get(kind)
    if erp is not None and company.erp_system != erp:
        raise ErpError(
            f"{company.name} keeps its books in {company.erp_name}; the {CONNECTOR_KINDS[kind]} "
            f"connector only serves {formats.ERP_NAMES[erp]} companies."
        )
    if kind == SAGE100_FILES:
        return Sage100FileConnector(
            _company_folder(settings.get("inbox", ""), company.slug),
            _company_folder(settings.get("outbox", ""), company.slug),
            file_type=company.sage100_file_type,
            division_names=_division_names(company),
        )
    if kind == SAGE100_DATABASE:
        return _sage100_database(_database_url(settings, company.slug), writes_enabled)
    if kind == SAGE300_ODBC:
        missing = [label for key, label in KIND_SETTINGS[SAGE300_ODBC] if not settings.get(key)]
        if missing:
            raise ErpError(f"The Sage 300 CRE ODBC connection needs: {', '.join(missing)}.")
        return Sage300OdbcConnector(timberline_query(settings["dsn"], settings["user"], settings["password"]))
    return reference_erp(config["ERP_DATABASE_URL"]).connector(company.slug, company.mask)


def _division_names(company: Any) -> dict[str, str]:
    """The portal's names for the company's divisions (from its ERP Standard Cost Code list),
    for the divisions file the file connector writes when a code needs a division Sage lacks."""
    session = object_session(company)
    if session is None:
        return {}
    rows = session.execute(
        select(StandardCostCode.division, StandardCostCode.division_name)
        .where(StandardCostCode.company_id == company.id, StandardCostCode.division_name != "")
        .distinct()
    )
    return dict(rows.all())


def _database_url(settings: Mapping[str, str], slug: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = _company_folder(settings.get("url", ""), slug).strip()
    if not url:
        raise ErpError("The Sage 100 Contractor database connection needs its database URL.")
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ErpError(
            f'"{url}" is not a database URL (for example mssql+pymssql://login@server/Company).'
        ) from error
    if settings.get("password"):
        parsed = parsed.set(password=settings["password"])
    return parsed.render_as_string(hide_password=False)


def _sage100_database(url: str, writes_enabled: bool) -> Sage100DatabaseConnector:
    with _reference_lock:
        connector = _sage100_databases.get((url, writes_enabled))
        if connector is None:
            try:
                connector = Sage100DatabaseConnector(url, writes_enabled=writes_enabled)
            except Exception as error:  # a missing driver (pymssql: the [sqlserver] extra) or a bad URL
                raise ErpError(f"The Sage 100 Contractor database cannot be opened: {error}") from error
            _sage100_databases[url, writes_enabled] = connector
        return connector


def _company_folder(setting: str, slug: str) -> str:
    return setting.replace("{company}", slug)
