"""Which connector the data sync uses for a company.

The setting ERP_CONNECTOR is either one connector for every company ("reference", the default,
or "sage100_files") or a per-company list keyed by company slug:
"ridgeline=sage100_files, harbor-point=reference" (companies not listed use the reference ERP).

The Sage 100 Contractor file folders (SAGE100_INBOX_DIR, SAGE100_OUTBOX_DIR) may contain
"{company}", replaced by the company's slug, when several companies exchange files.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from portal.erp.base import ErpConnector, ErpError
from portal.erp.reference import ReferenceErp
from portal.erp.sage100_files import Sage100FileConnector
from portal.models import StandardCostCode

REFERENCE = "reference"
SAGE100_FILES = "sage100_files"
CONNECTOR_KINDS = {REFERENCE: "Reference ERP", SAGE100_FILES: "Sage 100 Contractor files"}

# One engine per ERP database for the whole process: a sync per minute must not open a new pool.
_reference_erps: dict[str, ReferenceErp] = {}
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


def connector_for(company: Any, config: Mapping[str, Any]) -> ErpConnector:
    """A fresh connector for one sync run of the company (the file connector writes one import
    file per connector, so never reuse one across runs)."""
    kind = connector_kind(company.slug, config.get("ERP_CONNECTOR"))
    if kind == SAGE100_FILES:
        if company.erp_system != "sage100c":
            raise ErpError(
                f"{company.name} keeps its books in {company.erp_name}; the Sage 100 Contractor "
                "file connector only serves Sage 100 Contractor companies."
            )
        return Sage100FileConnector(
            _company_folder(config["SAGE100_INBOX_DIR"], company.slug),
            _company_folder(config["SAGE100_OUTBOX_DIR"], company.slug),
            file_type=company.sage100_file_type,
            division_names=_division_names(company),
        )
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


def _company_folder(setting: str, slug: str) -> str:
    return setting.replace("{company}", slug)
