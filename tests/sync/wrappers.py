"""Connector wrappers for fault tests: record what the sync asks, fail where told."""
from __future__ import annotations

from portal.erp.base import ErpConnector, ErpError, LineResult


class KilledWorker(BaseException):  # noqa: N818 (named after what it simulates)
    """The worker process dies: nothing after this point runs, not even `except Exception`."""


class RecordingConnector(ErpConnector):
    """Passes every call on to `inner`, records it, and fails at the `fail_at`-th exported line
    (1-based) in the way `mode` says: "result" (a failed line), "erp_error" (the ERP cannot be
    reached), "crash" (an unexpected error) or "kill" (the worker dies)."""

    def __init__(self, inner, fail_at: int | None = None, mode: str = "result"):
        self.inner = inner
        self.fail_at = fail_at
        self.mode = mode
        self.lines_seen = 0
        self.calls: list[tuple] = []
        self.results: list[LineResult] = []

    def recover(self) -> None:
        self.fail_at = None

    def fetch_cost_types(self):
        self.calls.append(("fetch_cost_types",))
        return self.inner.fetch_cost_types()

    def fetch_standard_cost_codes(self):
        self.calls.append(("fetch_standard_cost_codes",))
        return self.inner.fetch_standard_cost_codes()

    def fetch_jobs(self):
        self.calls.append(("fetch_jobs",))
        return self.inner.fetch_jobs()

    def create_job(self, number, name):
        self.calls.append(("create_job", number))
        return self.inner.create_job(number, name)

    def export_cost_code_lines(self, job_number, lines):
        results = []
        for line in lines:
            self.lines_seen += 1
            self.calls.append(("export_line", job_number, line.code, line.cost_type))
            if self.fail_at is not None and self.lines_seen == self.fail_at:
                if self.mode == "erp_error":
                    raise ErpError("The ERP did not answer (connection reset).")
                if self.mode == "crash":
                    raise RuntimeError("connection to the ERP lost mid-export")
                if self.mode == "kill":
                    raise KilledWorker()
                results.append(LineResult(line.code, line.cost_type, "failed", "ERP busy, try later"))
                continue
            results.extend(self.inner.export_cost_code_lines(job_number, [line]))
        self.results.extend(results)
        return results

    def export_commitment(self, job_number, commitment):
        self.calls.append(("export_commitment", job_number, commitment.number))
        return self.inner.export_commitment(job_number, commitment)
