"""Fixtures of the sync tests, importable by the browser tests too."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from portal.erp.connectors import dispose_reference_erps, reference_erp
from portal.erp.reference_seed import seed_reference_erp
from portal.extensions import db


def _sqlite_path(url: str) -> Path:
    assert url.startswith("sqlite:///"), url
    return Path(url.removeprefix("sqlite:///"))


@pytest.fixture(scope="session")
def seeded_erp_file(tmp_path_factory):
    """Filled by the first test that needs it; every test starts from the same demo data, so
    the seeded ERP is the same too and later tests copy the file."""
    return {"path": tmp_path_factory.mktemp("erp") / "seeded-erp.sqlite", "ready": False}


@pytest.fixture
def erp(app, seeded_erp_file):
    """The test's reference ERP, holding what the demo companies already have in their ERP."""
    url = app.config["ERP_DATABASE_URL"]
    if seeded_erp_file["ready"]:
        directory = _sqlite_path(url)
        for copy in seeded_erp_file["copies"]:
            shutil.copyfile(copy, directory.with_name(copy.name.replace("seeded-erp", directory.stem)))
        reference = reference_erp(url)
    else:
        reference = reference_erp(url)
        seed_reference_erp(db.session, reference)
        dispose_reference_erps()
        # The directory and each company's own database beside it (reference.company_url).
        directory = _sqlite_path(url)
        seeded_erp_file["copies"] = []
        for path in [directory, *sorted(directory.parent.glob(f"{directory.stem}-*{directory.suffix}"))]:
            with sqlite3.connect(path) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            copy = seeded_erp_file["path"].with_name(path.name.replace(directory.stem, "seeded-erp"))
            shutil.copyfile(path, copy)
            seeded_erp_file["copies"].append(copy)
        seeded_erp_file["ready"] = True
        reference = reference_erp(url)
    yield reference
    dispose_reference_erps()
