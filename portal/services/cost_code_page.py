"""What a project's Cost Code page (and its project page) shows beside the table: the state of
its cost code update request, what Send to ERP would send, and its last Refresh Cost Codes."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from portal.db.search import text_search
from portal.erp.formats import in_code_order
from portal.models import CostCodeUpdateRequest, Level, Project, ProjectCostCode, RefreshJob
from portal.services.project_cost_codes import (
    latest_update_request,
    request_line_count,
    unsent_count,
)
from portal.services.refresh import latest_refresh

NEEDS_ADMIN = f"You need {Level.ADMIN.label} on this project's Admin tool."


@dataclass
class UpdateRequestState:
    """What the Cost Code page and the project page say about the project's cost code updates."""

    request: CostCodeUpdateRequest | None
    line_count: int
    unsent: int
    may_change: bool

    @property
    def send_refusal(self) -> str | None:
        if not self.may_change:
            return NEEDS_ADMIN
        if not self.unsent:
            return "Nothing new to send: add cost codes or cost types first."
        return None


def update_request_state(session: Session, project: Project, project_level: Level) -> UpdateRequestState:
    """`project_level` is the user's level on the project's Admin tool."""
    update_request = latest_update_request(session, project)
    return UpdateRequestState(
        request=update_request,
        line_count=request_line_count(session, update_request) if update_request else 0,
        unsent=unsent_count(session, project),
        may_change=project_level >= Level.ADMIN,
    )


@dataclass
class CostCodePage:
    update_state: UpdateRequestState
    # The refresh the banner follows: the running one, else the last one.
    refresh_job: RefreshJob | None


def cost_code_page(session: Session, project: Project, project_level: Level) -> CostCodePage:
    return CostCodePage(
        update_state=update_request_state(session, project, project_level),
        refresh_job=latest_refresh(session, project.id),
    )


def project_cost_codes_query(project: Project, search: str = "") -> Select:
    """The Cost Code table's rows, in the ERP's code order, matching the search on code or
    description."""
    query = (
        select(ProjectCostCode)
        .where(ProjectCostCode.project_id == project.id)
        .options(selectinload(ProjectCostCode.assignments))
    )
    if search:
        query = query.where(text_search(search, ProjectCostCode.code, ProjectCostCode.description))
    return query.order_by(*in_code_order(ProjectCostCode.code))
