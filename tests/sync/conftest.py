from __future__ import annotations

import pytest

from portal.erp.connectors import dispose_reference_erps, reference_erp
from portal.extensions import db
from portal.services.sync import seed_reference_erp


@pytest.fixture
def erp(app):
    """The test's reference ERP, holding what the demo companies already have in their ERP."""
    reference = reference_erp(app.config["ERP_DATABASE_URL"])
    seed_reference_erp(db.session, reference)
    yield reference
    dispose_reference_erps()
