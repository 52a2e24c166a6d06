"""Step 1 of a sync: pull the ERP's cost types and standard cost codes into the company list.

Each code is validated against the ERP's format; a bad one is listed on the run and skipped (a
stored one is kept, marked invalid), and a code the ERP no longer lists is deactivated, never
deleted. A Sage 300 CRE company's cost code mask is read from the ERP when the connector can
(issue 15: "read from the ERP when the connector can"); otherwise the one a Company Admin set holds.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import insert, select, update

from portal.erp import formats
from portal.erp.base import FORMAT_ERRORS, ErpError
from portal.models import CostType, StandardCostCode, utcnow
from portal.services import transaction
from portal.services.audit import record_event
from portal.services.code_format import mark_invalid_standard_codes
from portal.services.sync.step_base import SyncStepBase


class PullCostCodes(SyncStepBase):
    def pull_standard_codes(self) -> None:
        self._commit_before_erp_call()
        try:
            erp_types = self.connector.fetch_cost_types()
            erp_codes = self.connector.fetch_standard_cost_codes()
            # Sage 100 Contractor's own list of divisions (None: the connector cannot read one).
            erp_divisions = self.connector.fetch_divisions()
            # Sage 300 CRE's own mask (None: the connector cannot read it).
            erp_mask = self.connector.fetch_cost_code_mask() if self.erp_system == formats.SAGE300 else None
            if not erp_codes:
                raise ErpError(
                    "The ERP returned no cost codes; the stored ERP Standard Cost Code list is "
                    "kept as it is."
                )
        except ErpError as error:
            self._fail_step("codes", error)
            return
        # Rows of a cost code file that could not even be split into columns.
        invalid: list[dict[str, Any]] = [
            {"code": "", "reason": message}
            for message in self.connector.last_file_errors
        ]
        with transaction(self.session):
            if erp_mask is not None:
                self._store_erp_mask(erp_mask)
            counts = Counter(self._merge_cost_types(erp_types, invalid))
            counts.update(self._merge_standard_codes(erp_codes, invalid, erp_divisions))
            # A stored code the ERP now lists in a form it would refuse stays, marked invalid.
            mark_invalid_standard_codes(self.session, self.company_id, self.refused_codes)
            counts["invalid"] = len(invalid)
            self.run.invalid_codes = invalid
            self._record_counts("codes", dict(counts))

    def _store_erp_mask(self, mask_text: str) -> None:
        """The ERP's mask becomes the company's (the ERP is the authority); one the portal cannot
        read is reported on the run and the stored mask kept."""
        try:
            mask = formats.parse_mask(mask_text)
        except formats.MaskError as error:
            self._record_failure("codes", mask_text, f"The ERP's cost code mask was not taken: {error}")
            return
        company = self.company
        text = None if mask is None else str(mask)
        if text is None or text == company.cost_code_mask:
            return
        record_event(
            self.session, company_id=company.id, actor=self.actor, action="company.cost_code_mask",
            object_type="company", object_id=company.id, object_label=company.name,
            details={"from": company.cost_code_mask or "none", "to": text, "read_from": "ERP"},
        )
        company.cost_code_mask = text
        self.mask = mask

    def _merge_cost_types(self, erp_types, invalid: list[dict[str, Any]]) -> Counter:
        counts: Counter = Counter(cost_types_added=0, cost_types_updated=0)
        stored = {
            cost_type.code: cost_type
            for cost_type in self.session.scalars(
                select(CostType).where(CostType.company_id == self.company_id)
            )
        }
        for erp_type in erp_types:
            try:
                code = formats.validate_cost_type(self.erp_system, erp_type.code)
            except formats.CostTypeError as error:
                invalid.append({"code": erp_type.code, "reason": str(error)})
                continue
            name = (erp_type.name or "").strip()[:60] or code
            cost_type = stored.get(code)
            if cost_type is None:
                stored[code] = CostType(company_id=self.company_id, code=code, name=name)
                self.session.add(stored[code])
                counts["cost_types_added"] += 1
            elif cost_type.name != name:
                cost_type.name = name
                counts["cost_types_updated"] += 1
        return counts

    def _merge_standard_codes(self, erp_codes, invalid: list[dict[str, Any]], erp_divisions=None) -> Counter:
        counts: Counter = Counter(codes_added=0, codes_updated=0, codes_deactivated=0)
        erp_division_names = None if erp_divisions is None else {d.number: d.name for d in erp_divisions}
        valid: dict[str, tuple[str, str]] = {}
        listed: set[str] = set()  # every code the ERP has, even one it holds in a bad format
        start = len(invalid)
        for erp_code in erp_codes:
            listed.add((erp_code.code or "").strip())
            if erp_code.problem:
                invalid.append({"code": erp_code.code, "reason": erp_code.problem})
                continue
            try:
                code = formats.validate_cost_code(self.erp_system, erp_code.code, self.mask)
                description = formats.validate_description(self.erp_system, erp_code.description)
            except FORMAT_ERRORS as error:
                invalid.append({"code": erp_code.code, "reason": str(error)})
                continue
            if code in valid:
                invalid.append({
                    "code": erp_code.code,
                    "reason": f'Cost code "{code}" is listed twice in the ERP; the first is kept.',
                })
                continue
            division = (erp_code.division or "").strip()[:40]
            if erp_division_names is not None and division not in erp_division_names:
                # A Sage 100 Contractor code must be in a division of the Cost Divisions list
                # (help 19.2, "Importing cost divisions"): the ERP's data is broken, say so.
                invalid.append({"code": erp_code.code, "reason": (
                    f'Cost code "{code}" is in division "{formats.shown(division)}", which '
                    f"{formats.ERP_NAMES[self.erp_system]} does not have; add the division in the "
                    "Cost Divisions window (6-5 Cost Codes) or move the code.")})
                continue
            valid[code] = (description, division or formats.division_of(self.erp_system, code, self.mask))
        listed |= set(valid)
        # The codes the ERP holds in a form it would refuse, with why (a code listed twice keeps
        # its first, valid entry, and cost types are not codes: neither is marked).
        self.refused_codes = {
            (entry["code"] or "").strip(): entry["reason"]
            for entry in invalid[start:]
            if entry["code"] and (entry["code"] or "").strip() not in valid
        }

        # Plain rows, not ORM objects: a company's list holds tens of thousands of codes and
        # a sync every few minutes mostly finds them unchanged.
        stored = {
            code: {
                "id": code_id, "description": description, "division": division,
                "division_name": division_name, "active": active,
            }
            for code_id, code, description, division, division_name, active in self.session.execute(
                select(
                    StandardCostCode.id, StandardCostCode.code, StandardCostCode.description,
                    StandardCostCode.division, StandardCostCode.division_name, StandardCostCode.active,
                ).where(StandardCostCode.company_id == self.company_id)
            )
        }
        division_names = {c["division"]: c["division_name"] for c in stored.values() if c["division_name"]}
        # The ERP's names win where it has a list of divisions.
        division_names.update(erp_division_names or {})
        added: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        now = utcnow()
        for code, (description, division) in valid.items():
            standard = stored.get(code)
            if standard is None:
                added.append({
                    "company_id": self.company_id, "code": code, "description": description,
                    "division": division, "division_name": division_names.get(division, ""),
                })
                continue
            erp_name = (erp_division_names or {}).get(division)
            if (standard["description"], standard["division"], standard["active"]) != (
                description, division, True
            ) or (erp_name is not None and erp_name != standard["division_name"]):
                if standard["division"] != division or erp_name is not None:
                    standard["division_name"] = division_names.get(division, standard["division_name"])
                changed.append({
                    "id": standard["id"], "description": description, "division": division,
                    "division_name": standard["division_name"], "active": True, "updated_at": now,
                })
        deactivated = [
            {"id": standard["id"], "active": False, "updated_at": now}
            for code, standard in stored.items()
            if code not in listed and standard["active"]
        ]
        for rows in (changed, deactivated):
            if rows:
                self.session.execute(update(StandardCostCode), rows)
        if added:
            self.session.execute(insert(StandardCostCode), added)
        counts.update(codes_added=len(added), codes_updated=len(changed), codes_deactivated=len(deactivated))
        if counts["codes_added"] or counts["codes_updated"] or counts["codes_deactivated"]:
            self.company.standard_codes_changed_at = self.now()
        counts["codes_in_erp"] = len(valid)
        return counts
