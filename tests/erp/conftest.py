import os

import pytest
from hypothesis import settings

from portal.erp.reference import ReferenceErp

settings.register_profile("default", max_examples=300)
settings.register_profile("ci", max_examples=10_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def erp(tmp_path):
    reference = ReferenceErp(f"sqlite:///{tmp_path / 'erp.sqlite3'}")
    yield reference
    reference.dispose()


@pytest.fixture
def sage100_erp(erp):
    """A Sage 100 Contractor company "acme" with divisions 2000 and 3000 and job 1001."""
    erp.ensure_company("acme", "sage100c")
    erp.add_division("acme", "2000", "Site Work")
    erp.add_division("acme", "3000", "Concrete")
    erp.add_job("acme", "1001", "Main Street Clinic")
    return erp


@pytest.fixture
def sage300_erp(erp):
    """A Sage 300 CRE company "beta" with job 24-001."""
    erp.ensure_company("beta", "sage300cre")
    erp.add_job("beta", "24-001", "Harbor Bridge")
    return erp
