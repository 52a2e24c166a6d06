"""Company Admin → Audit Log: finding a company's audit events and writing them as CSV.

Events are shown in words (portal/services/audit_sentences.py) and times in the company's
time zone (portal/times.py).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.models import AuditEvent, Company, Project, User
from portal.services.audit_sentences import action_label, action_sentence, describe_details
from portal.times import local_time, time_zone

# The time column names the zone: "When (America/Chicago)".
CSV_COLUMNS = ["When ({zone})", "User", "Action", "Object type", "Object", "Project", "Details"]
# Excel reads a CSV file without a byte-order mark in the computer's legacy code page, which
# garbles every "→", "é" or "“"; with it, Excel reads UTF-8.
BYTE_ORDER_MARK = "\ufeff"
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    action: str | None = None
    project_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive


def audit_events_query(company_id: int, audit_filter: AuditFilter) -> Select:
    """The company's events matching the filter, newest first."""
    query = select(AuditEvent).where(AuditEvent.company_id == company_id)
    if audit_filter.actor_id is not None:
        query = query.where(AuditEvent.actor_id == audit_filter.actor_id)
    if audit_filter.action:
        query = query.where(AuditEvent.action == audit_filter.action)
    if audit_filter.project_id is not None:
        query = query.where(AuditEvent.project_id == audit_filter.project_id)
    if audit_filter.date_from:
        query = query.where(AuditEvent.created_at >= datetime.combine(audit_filter.date_from, time.min))
    if audit_filter.date_to:
        next_day = datetime.combine(audit_filter.date_to + timedelta(days=1), time.min)
        query = query.where(AuditEvent.created_at < next_day)
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


@dataclass(frozen=True)
class AuditFilterChoices:
    users: list[tuple[int, str]]
    actions: list[tuple[str, str]]  # (action key, in words)
    projects: list[tuple[int, str]]


def audit_filter_choices(session: Session, company_id: int) -> AuditFilterChoices:
    users = session.execute(
        select(User.id, User.name).where(User.company_id == company_id).order_by(User.name)
    )
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.company_id == company_id)
        .distinct().order_by(AuditEvent.action)
    )
    projects = session.execute(
        select(Project.id, Project.number, Project.name)
        .where(Project.company_id == company_id).order_by(Project.number)
    )
    return AuditFilterChoices(
        users=[(row.id, row.name) for row in users],
        actions=sorted(((action, action_label(action)) for action in actions), key=lambda item: item[1]),
        projects=[(row.id, f"{row.number} {row.name}") for row in projects],
    )


def csv_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def audit_events_csv(session: Session, company_id: int, audit_filter: AuditFilter) -> Iterator[str]:
    """Every event matching the filter (not one page), as CSV text in chunks."""
    project_labels = {
        row.id: f"{row.number} {row.name}"
        for row in session.execute(
            select(Project.id, Project.number, Project.name).where(Project.company_id == company_id)
        )
    }
    zone_name = session.scalar(select(Company.time_zone).where(Company.id == company_id))
    zone = time_zone(zone_name)
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer)
    writer.writerow([CSV_COLUMNS[0].format(zone=zone.key), *CSV_COLUMNS[1:]])
    query = audit_events_query(company_id, audit_filter).execution_options(yield_per=500)
    for count, event in enumerate(session.scalars(query), start=1):
        writer.writerow(csv_safe(cell) for cell in (
            local_time(event.created_at, zone, seconds=True), event.actor_name,
            action_sentence(event.action, event.object_label),
            event.object_type, event.object_label, project_labels.get(event.project_id, ""),
            describe_details(event.details),
        ))
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
