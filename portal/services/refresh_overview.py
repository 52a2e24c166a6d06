"""What the Refresh all projects section shows: the projects out of date, and the batch that is
running, if any (coming back to the page while one runs shows its banner again)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from portal.models import Company, Project, RefreshJob
from portal.services.refresh import active_batch_id, batch_jobs, out_of_date_projects


@dataclass
class RefreshAllOverview:
    out_of_date: list[Project]
    running_batch_id: str | None = None
    running_jobs: list[RefreshJob] = field(default_factory=list)


def refresh_all_overview(
    session: Session, company: Company, *, with_running: bool = True
) -> RefreshAllOverview:
    overview = RefreshAllOverview(out_of_date=out_of_date_projects(session, company))
    if with_running:
        overview.running_batch_id = active_batch_id(session, company)
        if overview.running_batch_id is not None:
            overview.running_jobs = batch_jobs(session, company, overview.running_batch_id)
    return overview
