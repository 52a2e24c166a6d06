"""What a serving process does once its app is built (wsgi.py, flask portal serve, workers)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_served_app_keeps_its_start_up_objects_out_of_full_garbage_collections(tmp_path):
    # A full collection walking every module and mapping paused a request for ~50 ms.
    env = {
        **os.environ,
        "PORTAL_INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite'}",
        "SECRET_KEY": "serving-test-key",
        "PYTHONPATH": str(ROOT),
    }
    script = "import gc, wsgi; print(gc.get_freeze_count(), wsgi.app.name)"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    frozen, name = result.stdout.split()
    assert name == "portal"
    assert int(frozen) > 10_000  # the modules, the app and the mappings, not a handful
