"""What a project's Cost Code page (and its project page) shows beside the table: the state of
its cost code update request, what Send to ERP would send, and its last Refresh Cost Codes."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from portal.db.search import text_search
from portal.erp.formats import in_code_order
from portal.models import (
    CostCodeUpdateRequest,
    CostTypeAssignment,
    Level,
    Project,
    ProjectCostCode,
    RefreshJob,
)
from portal.services.erp_differences.listing import ProjectDifferences, project_differences
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
    # Active codes with no cost type at all: Send to ERP sends cost types, so it skips them.
    without_cost_type: int = 0

    @property
    def without_cost_type_text(self) -> str:
        count = self.without_cost_type
        return f"{count} code{'s have' if count != 1 else ' has'} no cost type"

    @property
    def send_refusal(self) -> str | None:
        if not self.may_change:
            return NEEDS_ADMIN
        if not self.unsent and self.without_cost_type:
            return (f"Nothing new to send: {self.without_cost_type_text}. "
                    "Tick a cost type for each code you want in the ERP job.")
        if not self.unsent:
            return "Nothing new to send: add cost codes or cost types first."
        return None


def codes_without_cost_type(session: Session, project: Project) -> int:
    return session.scalar(
        select(func.count())
        .select_from(ProjectCostCode)
        .where(
            ProjectCostCode.project_id == project.id,
            ProjectCostCode.active.is_(True),
            ~select(CostTypeAssignment.id)
            .where(CostTypeAssignment.project_cost_code_id == ProjectCostCode.id)
            .exists(),
        )
    ) or 0


def update_request_state(session: Session, project: Project, project_level: Level) -> UpdateRequestState:
    """`project_level` is the user's level on the project's Admin tool."""
    update_request = latest_update_request(session, project)
    return UpdateRequestState(
        request=update_request,
        line_count=request_line_count(session, update_request) if update_request else 0,
        unsent=unsent_count(session, project),
        may_change=project_level >= Level.ADMIN,
        without_cost_type=codes_without_cost_type(session, project),
    )


@dataclass
class CostCodePage:
    update_state: UpdateRequestState
    # The refresh the banner follows: the running one, else the last one.
    refresh_job: RefreshJob | None
    # "3 differences with ERP job 2402" (issue 18); None when the project has no ERP job.
    erp_differences: ProjectDifferences | None = None


def cost_code_page(session: Session, project: Project, project_level: Level) -> CostCodePage:
    return CostCodePage(
        update_state=update_request_state(session, project, project_level),
        refresh_job=latest_refresh(session, project.id),
        erp_differences=project_differences(session, project),
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
