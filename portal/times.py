"""Times as a company reads them: stored in UTC, shown in the company's time zone.

The zone is a company setting (Company.time_zone, an IANA name such as "America/Chicago"),
set by a Company Admin; every screen, message and CSV shows times through `local_time`.
"""
from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_TIME_ZONE = "UTC"


@cache
def time_zone_names() -> list[str]:
    """Every zone the server's time zone database knows, for the setting's list."""
    return sorted(name for name in available_timezones() if "/" in name or name == "UTC")


def is_time_zone(name: str) -> bool:
    return name in time_zone_names()


@cache
def time_zone(name: str | None) -> ZoneInfo:
    """The zone of that name; UTC for an empty or unknown name (a zone the server's database
    no longer has still shows times, in UTC and saying so)."""
    try:
        return ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def local_time(value: datetime | None, zone: ZoneInfo | None = None, seconds: bool = False) -> str:
    """A stored (naive UTC) time in the zone, with the zone's abbreviation: "2026-12-04 12:05 CST"."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(zone or time_zone(DEFAULT_TIME_ZONE))
    return f"{local:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {local.tzname()}"
