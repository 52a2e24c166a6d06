"""The part of a sync run every step uses: the run being recorded, the connector, the clock."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from portal.erp.base import ErpConnector
from portal.models import Company, SyncRun, User
from portal.services import transaction
from portal.services.audit import recorded_actor
from portal.services.sync.runs import STEP_LABELS, existing_company


class SyncStepBase:
    """What every step of a run shares: the run, its connector, and the recording of its counts
    and failures. Every database change is committed as soon as it matches the ERP."""

    def __init__(
        self, session: Session, run: SyncRun, connector: ErpConnector, actor: User | None,
        now: Callable[[], datetime],
    ):
        self.session = session
        self.run = run
        self.connector = connector
        self.actor = recorded_actor(actor)
        self.now = now
        self.company_id = run.company_id
        self.run_id, self.run_number = run.id, run.run_number
        company = existing_company(session, run.company_id)
        self.erp_system = company.erp_system
        self.mask = company.mask  # Sage 300 CRE: every code must fit the company's mask
        self.failures = 0

    def _commit_before_erp_call(self) -> None:
        """End the read transaction before asking the ERP: an ERP call may be slow, and on
        SQLite every transaction holds the database's write lock."""
        self.session.commit()

    @property
    def company(self) -> Company:
        return self.session.get(Company, self.company_id)

    def _record_counts(self, step: str, counts: dict[str, int]) -> None:
        self.run.counts = {**self.run.counts, step: counts}
        self.run.heartbeat_at = self.now()

    def _record_failure(self, step: str, item: str, message: str) -> None:
        self.failures += 1
        entry = {"step": STEP_LABELS[step], "item": item, "message": message[:500]}
        self.run.errors = [*self.run.errors, entry]

    def _fail_step(self, step: str, error: Exception) -> None:
        """The ERP could not be read for this step: nothing of it is stored, the run goes on."""
        self.session.rollback()
        with transaction(self.session):
            self._record_failure(step, "", str(error))
            self._record_counts(step, {**self.run.counts.get(step, {}), "failed": 1})
