"""The Jobs tab served by a real server (gunicorn, waitress) under load, beside its floor served alike."""

from __future__ import annotations

import re
import shutil
import subprocess

from bench.harness import BIN, ROOT, Bench, Row, free_port, wait_for_answer, wait_for_port
from bench.session import USER_AGENT, server_log


def jobs_tab_served(bench: Bench) -> None:
    if not shutil.which("wrk"):
        bench.add(
            Row(
                "Jobs tab served (wrk)",
                0,
                None,
                "req/s",
                "rate",
                ">= 0.7x floor",
                None,
                "wrk is not installed: apt-get install wrk",
            )
        )
        return
    cookie = bench.session_cookie(bench.ids.approver_id)
    seconds = 3 if bench.quick else 10
    servers = {
        "gunicorn -w 2": lambda app, port: [
            str(BIN / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        "waitress": lambda app, port: [
            str(BIN / "waitress-serve"),
            "--threads",
            "8",
            f"--listen=127.0.0.1:{port}",
            app,
        ],
    }
    for name, command in servers.items():
        ours = _wrk(bench,
            command("wsgi:app", free_port()),
            "/erp-integrations/jobs?filter=ready_to_update",
            cookie,
            seconds,
        )
        floor = _wrk(bench,
            command("bench.floor_app:app", free_port()),
            f"/ready-to-update/{bench.floor_ids.company_id}",
            None,
            seconds,
        )
        bench.add(
            Row(
                f"Jobs tab, Ready to Update, {name}, wrk 8 connections {seconds}s",
                ours[0],
                floor[0],
                "req/s",
                "rate",
                ">= 0.7x floor req/s",
                ours[0] / floor[0] >= 0.7 and ours[1] == 0,
                f"errors {ours[1]}",
            )
        )


def _wrk(bench: Bench, command: list[str], path: str, cookie: str | None, seconds: int) -> tuple[float, int]:
    port = int(re.search(r"127\.0\.0\.1:(\d+)", " ".join(command)).group(1))
    server = subprocess.Popen(
        command, cwd=ROOT, env=bench.env, stdout=subprocess.DEVNULL, stderr=server_log("jobs-tab")
    )
    try:
        wait_for_port(port)
        header = ["-H", f"User-Agent: {USER_AGENT}"]
        if cookie:
            header += ["-H", f"Cookie: session={cookie}"]

        def run_wrk(duration: int) -> str:
            return subprocess.run(
                [
                    "wrk",
                    "-t",
                    "2",
                    "-c",
                    "8",
                    "-d",
                    f"{duration}s",
                    *header,
                    f"http://127.0.0.1:{port}{path}",
                ],
                capture_output=True,
                text=True,
                check=True,
                timeout=duration + 30,
            ).stdout

        # gunicorn's master listens before its workers have imported the app: a cold start
        # would be counted as slowness. Measure only once every worker answers.
        wait_for_answer(port, path, cookie)
        run_wrk(1)
        output = run_wrk(seconds)
    finally:
        server.terminate()
        server.wait(timeout=10)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, int(errors.group(1)) if errors else 0
