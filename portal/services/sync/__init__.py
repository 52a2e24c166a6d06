"""The data sync between a company and its ERP.

One run per company (the partial unique index on sync_runs keeps runs of a company from
overlapping), in steps that are each idempotent and recorded on the run:

1. pull cost types and standard cost codes (each code validated; a bad one is listed and skipped)
2. pull ERP jobs (a job no project has shows under Ready to Import)
3. create ERP jobs for the projects accepted under Ready to Export
4. export approved cost code update requests (the request is the outbox; every line keeps its
   own export state, committed a batch at a time with the ERP's answers, so a crash loses
   nothing, and a batch sent again is answered "unchanged", so nothing is exported twice)
5. export contracts and change orders, never before their project's cost codes
6. compare every linked project's cost codes with its ERP job's (the Differences with ERP tab)

The package: `runs` (run bookkeeping and schedules), `engine` (the steps in order, and the ERP
jobs and commitments steps), `codes` (pulling cost types and cost codes), `outbox` (the export of
approved requests), `differences` (the comparison with the ERP jobs), `step_base` (what every
step shares: the run's counts and failures).
"""
from portal.services.sync.engine import CompanySync, run_company_sync
from portal.services.sync.runs import (
    RUN_STATES,
    SCHEDULE_INTERVALS,
    STALE_AFTER,
    STEP_LABELS,
    active_run,
    claim_due_syncs,
    existing_company,
    fail_queued_run,
    next_sync_time,
    queue_sync,
    recent_runs,
    set_sync_schedule,
    start_run,
)

__all__ = [
    "RUN_STATES",
    "SCHEDULE_INTERVALS",
    "STALE_AFTER",
    "STEP_LABELS",
    "CompanySync",
    "active_run",
    "claim_due_syncs",
    "existing_company",
    "fail_queued_run",
    "next_sync_time",
    "queue_sync",
    "recent_runs",
    "run_company_sync",
    "set_sync_schedule",
    "start_run",
]
