"""Refresh Cost Codes: bring a project's Cost Code segment in line with the company list.

A refresh runs in the background (a huey task) while the page shows its progress, so its state
lives in a RefreshJob row that any web worker can read. Progress is committed step by step; the
code changes themselves are ONE transaction at the end, so a refresh that fails (or a worker that
dies) leaves the project exactly as it was.

The package: `jobs` (starting jobs, their progress and their end), `compare` (the pure comparison
of the two lists), `write` (writing the changes), `run` (a job from its start to its end).
"""
from portal.services.refresh.jobs import (
    ACTIVE_STATES,
    NEVER_STARTED_MESSAGE,
    STALLED_MESSAGE,
    RefreshBatch,
    RefreshInterrupted,
    active_batch_id,
    active_refresh,
    batch_jobs,
    fail_stalled_refreshes,
    latest_refresh,
    out_of_date_clause,
    out_of_date_projects,
    project_is_out_of_date,
    result_summary,
    start_project_refresh,
    start_refresh_all_projects,
)
from portal.services.refresh.run import refresh_project_cost_codes

__all__ = [
    "ACTIVE_STATES",
    "NEVER_STARTED_MESSAGE",
    "STALLED_MESSAGE",
    "RefreshBatch",
    "RefreshInterrupted",
    "active_batch_id",
    "active_refresh",
    "batch_jobs",
    "fail_stalled_refreshes",
    "latest_refresh",
    "out_of_date_clause",
    "out_of_date_projects",
    "project_is_out_of_date",
    "refresh_project_cost_codes",
    "result_summary",
    "start_project_refresh",
    "start_refresh_all_projects",
]
