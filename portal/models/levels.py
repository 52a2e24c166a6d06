"""Permission levels and names shared by every aggregate."""
from __future__ import annotations

import enum
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Level(enum.IntEnum):
    """Tool permission levels, ordered so that `level >= Level.STANDARD` reads as the rule does."""

    NONE = 0
    READ_ONLY = 1
    STANDARD = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return {0: "None", 1: "Read Only", 2: "Standard", 3: "Admin"}[self.value]

    @classmethod
    def from_label(cls, label: str) -> Level:
        for level in cls:
            if level.label == label:
                return level
        raise ValueError(f'"{label}" is not a permission level (None, Read Only, Standard, Admin)')


class CompanyTool(enum.StrEnum):
    ERP_INTEGRATIONS = "erp_integrations"
    COMPANY_ADMIN = "company_admin"

    @property
    def label(self) -> str:
        return {"erp_integrations": "ERP Integrations", "company_admin": "Company Admin"}[self.value]
