"""The data sync's rules, each named after the rule it checks."""
from __future__ import annotations

import time

from portal.erp.connectors import connector_for
from portal.extensions import db
from portal.services.sync import run_company_sync
from tests.conftest import company_by_slug
from tests.sync.factories import approved_request, project_by_number


def sync(app, slug="ridgeline", connector=None, **kwargs):
    company = company_by_slug(slug)
    return run_company_sync(
        db.session, company.id, connector=connector or connector_for(company, app.config), **kwargs
    )


def test_seeding_and_a_plain_sync_change_nothing(app, erp):
    started = time.perf_counter()
    run = sync(app)
    assert run.status == "succeeded", run.errors
    assert run.counts["codes"]["codes_added"] == 0
    print(time.perf_counter() - started)
