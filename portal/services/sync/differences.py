"""The sync's last step: compare every linked project's cost codes with its ERP job's (issue 18),
after the exports, so that what a run put on the jobs is not listed as missing."""
from __future__ import annotations

from portal.services import transaction
from portal.services.erp_differences.compare import compare_company, difference_count
from portal.services.sync.step_base import SyncStepBase


class CompareWithErpJobs(SyncStepBase):
    def compare_with_erp_jobs(self) -> None:
        comparison = compare_company(self.session, self.company_id, self.connector, now=self.now)
        with transaction(self.session):
            if comparison.failure:  # set by this attempt only: a comparison that reads clears it
                self._record_failure("differences", "", comparison.failure)
                counts = {"failed": 1}
            elif comparison.unreadable:
                counts = {"jobs_not_readable": comparison.jobs_compared or 1}
            else:
                counts = {
                    "jobs_compared": comparison.jobs_compared,
                    "jobs_not_found": len(comparison.job_problems),
                    "differences": difference_count(self.session, self.company_id),
                }
            # A linked job the ERP lacks is counted and named on the Differences with ERP tab,
            # not a failure of every run until someone relinks the project.
            self._record_counts("differences", counts)

