"""The site layout (base.html): its header's tools, company name and waiting badge.

Every full page is rendered through render_page(), which gives the layout its data; the header
has no template globals that query. The ERP Integrations badge counts the approver's work (the
projects under Ready to Update and Failed to Export), for users who may approve.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template
from flask_login import current_user

from portal.extensions import db
from portal.models import Company, CompanyTool, Level
from portal.times import DEFAULT_TIME_ZONE, time_zone


@dataclass(frozen=True)
class Layout:
    company: Company | None = None
    # (label, endpoint) of each company tool the user may open, in header order.
    tools: list[tuple[str, str]] = field(default_factory=list)
    # The badge beside ERP Integrations; None where it is not shown at all.
    waiting_updates: int | None = None
    # The company's time zone: the `when` filter shows every time in it.
    time_zone: ZoneInfo = field(default_factory=lambda: time_zone(DEFAULT_TIME_ZONE))


def page_time_zone() -> ZoneInfo:
    """The signed-in user's company's time zone (UTC before log-in), for a partial's data."""
    if not current_user.is_authenticated:
        return time_zone(DEFAULT_TIME_ZONE)
    return time_zone(current_user.company.time_zone)


def page_layout(waiting_updates: int | None = None, *, count_waiting: bool = True) -> Layout:
    """The layout's data for the signed-in user. A view that has counted the waiting requests
    already passes `waiting_updates`; error pages after a failure pass count_waiting=False."""
    if not current_user.is_authenticated:
        return Layout()
    tools = []
    if current_user.tool_level(CompanyTool.ERP_INTEGRATIONS) >= Level.READ_ONLY:
        tools.append(("ERP Integrations", "erp_integrations.jobs"))
    if current_user.tool_level(CompanyTool.COMPANY_ADMIN) >= Level.READ_ONLY:
        tools.append(("Company Admin", "company_admin.directory"))
    tools.append(("Projects", "project_admin.projects"))
    if not current_user.can_push_to_accounting:
        waiting_updates = None
    elif waiting_updates is None and count_waiting:
        waiting_updates = _approver_work(current_user.company_id)
    return Layout(
        company=current_user.company, tools=tools, waiting_updates=waiting_updates,
        time_zone=time_zone(current_user.company.time_zone),
    )


def _approver_work(company_id: int) -> int:
    # Imported here: the Jobs filters' module belongs to the erp_integrations blueprint, whose
    # views import this module. The badge counts with the filters' own definitions.
    from portal.erp_integrations.jobs import approver_work, approver_work_query

    counts = db.session.execute(approver_work_query(), {"company_id": company_id}).mappings().one()
    return approver_work(counts)


def render_page(template: str, *, layout: Layout | None = None, **context: Any) -> str:
    """A full page: the template with the layout's data."""
    return render_template(template, layout=layout or page_layout(), **context)
