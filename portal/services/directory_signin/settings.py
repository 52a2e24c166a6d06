"""Directory sign-in settings, read once from the app's configuration (see README, "Directory sign-in")."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.models import CompanyTool, Level

CAN_PUSH_TO_ACCOUNTING = "Can Push to Accounting"


class DirectorySettingsError(ValueError):
    """A directory setting the portal cannot use; the message names the setting."""


@dataclass(frozen=True)
class GroupGrant:
    """What membership of one directory group gives: tool levels and, maybe, the privilege."""

    levels: Mapping[CompanyTool, Level] = field(default_factory=dict)
    can_push_to_accounting: bool = False


@dataclass(frozen=True)
class DirectorySettings:
    url: str
    company_slug: str
    base_dn: str = ""
    bind_dn: str = ""
    bind_password: str = ""
    user_filter: str = "(|(uid={name})(mail={name}))"
    dn_template: str = ""
    uid_attribute: str = "uid"
    disabled_filter: str = ""
    group_base_dn: str = ""
    group_map: Mapping[str, GroupGrant] = field(default_factory=dict)
    ca_file: str = ""
    timeout: float = 5.0
    allow_plain: bool = False

    @property
    def uses_tls(self) -> bool:
        return self.url.lower().startswith("ldaps://")

    @property
    def uses_start_tls(self) -> bool:
        """ldap:// is upgraded with StartTLS unless plain text was explicitly allowed."""
        return not self.uses_tls and not self.allow_plain

    @property
    def can_search(self) -> bool:
        """A service account can look people up (needed to end a disabled account's sessions)."""
        return bool(self.bind_dn) and not self.dn_template


def parse_group_map(text: str) -> dict[str, GroupGrant]:
    """`Group=ERP Integrations:Standard,Can Push to Accounting;Other=Company Admin:Admin`.

    Group names compare without case (the directory's own rule for cn); a group may grant a
    level on each company tool and the Can Push to Accounting privilege.
    """
    grants: dict[str, GroupGrant] = {}
    tools = {tool.label.lower(): tool for tool in CompanyTool}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        group, sep, granted = item.partition("=")
        if not sep or not group.strip():
            raise DirectorySettingsError(f'LDAP_GROUP_MAP: "{item}" is not "group=what it grants".')
        levels: dict[CompanyTool, Level] = {}
        can_push = False
        for grant in filter(None, (part.strip() for part in granted.split(","))):
            if grant.lower() == CAN_PUSH_TO_ACCOUNTING.lower():
                can_push = True
                continue
            tool_label, _, level_label = grant.partition(":")
            tool = tools.get(tool_label.strip().lower())
            if tool is None:
                raise DirectorySettingsError(
                    f'LDAP_GROUP_MAP: "{grant}" names no tool (ERP Integrations, Company Admin) '
                    f"and is not {CAN_PUSH_TO_ACCOUNTING}."
                )
            try:
                levels[tool] = Level.from_label(level_label.strip())
            except ValueError as error:
                raise DirectorySettingsError(f"LDAP_GROUP_MAP: {error}.")
        grants[group.strip().lower()] = GroupGrant(levels=levels, can_push_to_accounting=can_push)
    return grants


def directory_settings(config: Mapping[str, Any]) -> DirectorySettings | None:
    """The settings, or None when directory sign-in is off (LDAP_URL unset)."""
    url = (config.get("LDAP_URL") or "").strip()
    if not url:
        return None
    if not url.lower().startswith(("ldap://", "ldaps://")):
        raise DirectorySettingsError(f'LDAP_URL "{url}" must start with ldaps:// or ldap://.')
    if not config.get("LDAP_COMPANY"):
        raise DirectorySettingsError(
            "LDAP_COMPANY: name the company (its slug) the directory's people work for."
        )
    if not config.get("LDAP_DN_TEMPLATE") and not config.get("LDAP_BASE_DN"):
        raise DirectorySettingsError("LDAP_BASE_DN: say where to look people up (or set LDAP_DN_TEMPLATE).")
    return DirectorySettings(
        url=url,
        company_slug=config["LDAP_COMPANY"],
        base_dn=config.get("LDAP_BASE_DN") or "",
        bind_dn=config.get("LDAP_BIND_DN") or "",
        bind_password=config.get("LDAP_BIND_PASSWORD") or "",
        user_filter=config.get("LDAP_USER_FILTER") or DirectorySettings.user_filter,
        dn_template=config.get("LDAP_DN_TEMPLATE") or "",
        uid_attribute=config.get("LDAP_UID_ATTRIBUTE") or "uid",
        disabled_filter=config.get("LDAP_DISABLED_FILTER") or "",
        group_base_dn=config.get("LDAP_GROUP_BASE_DN") or "",
        group_map=parse_group_map(config.get("LDAP_GROUP_MAP") or ""),
        ca_file=config.get("LDAP_CA_FILE") or "",
        timeout=float(config.get("LDAP_TIMEOUT") or 5),
        allow_plain=bool(config.get("LDAP_ALLOW_PLAIN")),
    )
