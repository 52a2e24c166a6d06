"""The systemd units in deploy/ are valid (systemd-analyze verify), pointed at this checkout."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from portal.config import PROJECT_ROOT

UNITS = sorted((PROJECT_ROOT / "deploy" / "systemd").iterdir())
INSTALL_DIR = "/opt/cost-code-portal"

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")


def _verify(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(path) for path in folder.iterdir())],
        capture_output=True, text=True, timeout=60, check=False,
    )


def _copies(tmp_path: Path, replace: tuple[str, str] | None = None) -> Path:
    for unit in UNITS:
        # The units' programs are this test run's own (its venv may live outside the checkout).
        text = unit.read_text().replace(f"{INSTALL_DIR}/.venv/bin", str(Path(sys.executable).parent))
        text = text.replace(INSTALL_DIR, str(PROJECT_ROOT))
        if replace:
            text = text.replace(*replace)
        (tmp_path / unit.name).write_text(text)
    return tmp_path


def test_every_systemd_unit_verifies(tmp_path):
    assert {unit.name for unit in UNITS} >= {
        "cost-code-portal.service", "cost-code-portal-web.service", "cost-code-portal-worker.service",
        "cost-code-portal-backup.service", "cost-code-portal-backup.timer",
    }
    result = _verify(_copies(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_the_check_catches_a_unit_that_cannot_start(tmp_path):
    result = _verify(_copies(tmp_path, ("/.venv/bin/huey_consumer", "/.venv/bin/no-such-program")))
    assert result.returncode != 0
    assert "no-such-program" in result.stderr
