"""`flask portal serve` as a service runs it: healthy once its worker beats, a restore refused
while it runs, and after a stop (SIGTERM, as systemd sends) no lock left and the worker marked
stopped, so a restore may go ahead."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi", "portal"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _health(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_serve_is_healthy_blocks_restore_and_stops_cleanly_on_sigterm(tmp_path):
    instance = tmp_path / "instance"
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "ERP_DATABASE_URL", "REDIS_URL", "HUEY_IMMEDIATE", "SECRET_KEY"}}
    env.update({"PORTAL_INSTANCE_DIR": str(instance), "PYTHONPATH": str(ROOT)})

    def flask(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert flask("upgrade").returncode == 0
    port = _free_port()
    server = subprocess.Popen(
        [*FLASK, "serve", "--port", str(port)], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # A shell's background job starts with Ctrl-C ignored; a service manager's does not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            try:
                status, body = _health(port)
            except OSError:
                status = None
            if status == 200:
                break
            time.sleep(0.3)
        assert status == 200, body
        assert body["checks"]["worker"]["ok"] is True
        assert (instance / "serving.lock").exists()

        backup = flask("backup", str(tmp_path / "backups"))
        assert backup.returncode == 0, backup.stderr
        archive = next((tmp_path / "backups").glob("*.zip"))
        refused = flask("restore", str(archive), "--yes")
        assert refused.returncode == 1
        assert "The portal is being served from this instance" in refused.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)

    assert server.returncode == 0, output
    assert "Stopped." in output
    assert not (instance / "serving.lock").exists()
    restored = flask("restore", str(archive), "--yes")
    assert restored.returncode == 0, restored.stderr
