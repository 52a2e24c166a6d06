"""The Jobs tab served by a real server (gunicorn, waitress) under load, beside its floor served alike.

The load comes from wrk; a machine without it gets it from Debian's packages when the bench runs
as root with apt-get (as .ci/run installs Chromium), else the load comes from Python processes.
Either way no figure is skipped. Both ask for compressed pages, as a browser does, and the
figure reports the page's bytes on the wire beside its requests per second.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import re
import shutil
import subprocess
import threading
import time

from bench.harness import BIN, ROOT, Bench, PortalWrong, Row, free_port, wait_for_answer, wait_for_port
from bench.session import USER_AGENT, server_log

CONNECTIONS = 8
ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what Chromium sends

SERVERS = {
    "gunicorn -w 2": lambda app, port: [
        str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app,
    ],
    "waitress": lambda app, port: [
        str(BIN / "waitress-serve"), "--threads", "8", f"--listen=127.0.0.1:{port}", app,
    ],
}


def load_tool() -> str:
    """"wrk", installed if it can be; "python" where it cannot."""
    if shutil.which("wrk"):
        return "wrk"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("  wrk is not installed: apt-get install wrk", flush=True)
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=environment, check=False, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"], env=environment, check=False, timeout=600,
            stdout=subprocess.DEVNULL,
        )
        if shutil.which("wrk"):
            return "wrk"
    print("  wrk is not available: the load comes from Python processes", flush=True)
    return "python"


def jobs_tab_served(bench: Bench) -> None:
    tool = load_tool()
    cookie = bench.session_cookie(bench.ids.approver_id)
    seconds = 3 if bench.quick else 10
    ours_path, floor_path = "/erp-integrations/jobs?filter=ready_to_update", bench.jobs_floor_path()
    for name, command in SERVERS.items():
        ours = _measure(bench, tool, command("wsgi:app", free_port()), ours_path, cookie, seconds)
        floor = _measure(bench, tool, command("bench.floor_app:app", free_port()), floor_path, None, seconds)
        if abs(ours["compressed"] - floor["compressed"]) > 0.02 * floor["compressed"]:
            raise PortalWrong(
                f"the floor's page ({floor['compressed']} bytes compressed) is not the portal's "
                f"({ours['compressed']} bytes): the floor no longer does the same work"
            )
        bench.add(
            Row(
                f"Jobs tab, Ready to Update, {name}, {tool} {CONNECTIONS} connections {seconds}s",
                ours["rate"],
                floor["rate"],
                "req/s",
                "rate",
                ">= 0.7x floor req/s",
                ours["rate"] / floor["rate"] >= 0.7 and ours["errors"] == 0,
                f"errors {ours['errors']}; page {ours['compressed'] / 1024:.1f} KiB on the wire "
                f"({ours['encoding']}), {ours['uncompressed'] / 1024:.1f} KiB uncompressed; "
                f"floor's {floor['compressed'] / 1024:.1f} / {floor['uncompressed'] / 1024:.1f} KiB",
            )
        )


def _measure(
    bench: Bench, tool: str, command: list[str], path: str, cookie: str | None, seconds: int
) -> dict:
    port = int(re.search(r"127\.0\.0\.1:(\d+)", " ".join(command)).group(1))
    server = subprocess.Popen(
        command, cwd=ROOT, env=bench.env, stdout=subprocess.DEVNULL, stderr=server_log("jobs-tab")
    )
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}
    if cookie:
        headers["Cookie"] = f"session={cookie}"
    try:
        wait_for_port(port)
        # gunicorn's master listens before its workers have imported the app: a cold start
        # would be counted as slowness. Measure only once every worker answers.
        wait_for_answer(port, path, cookie)
        result = _page_bytes(port, path, headers)
        load = _wrk if tool == "wrk" else _python_load
        load(port, path, headers, 1)
        rate, errors = load(port, path, headers, seconds)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {**result, "rate": rate, "errors": errors}


def _page_bytes(port: int, path: str, headers: dict) -> dict:
    """The page as sent to a browser that takes compression, and as sent to one that does not."""
    sizes = {}
    for key, asked in (("compressed", headers), ("uncompressed", {**headers, "Accept-Encoding": "identity"})):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", path, headers=asked)
        response = connection.getresponse()
        sizes[key] = len(response.read())
        sizes.setdefault("encoding", response.getheader("Content-Encoding") or "none")
        connection.close()
    return sizes


def _wrk(port: int, path: str, headers: dict, seconds: int) -> tuple[float, int]:
    arguments = [argument for key, value in headers.items() for argument in ("-H", f"{key}: {value}")]
    output = subprocess.run(
        ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", *arguments,
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, int(errors.group(1)) if errors else 0


def _python_load(port: int, path: str, headers: dict, seconds: int) -> tuple[float, int]:
    """wrk's load from two processes of four keep-alive connections each."""
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.starmap(
            _load_process, [(port, path, headers, seconds, CONNECTIONS // 2)] * 2
        )
    return sum(done for done, _ in results) / seconds, sum(errors for _, errors in results)


def _load_process(port: int, path: str, headers: dict, seconds: int, connections: int) -> tuple[int, int]:
    counts = [[0, 0] for _ in range(connections)]
    deadline = time.monotonic() + seconds

    def client(count: list[int]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            count[0] += 1
            count[1] += not 200 <= response.status < 400
        connection.close()

    threads = [threading.Thread(target=client, args=(count,)) for count in counts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done for done, _ in counts), sum(errors for _, errors in counts)
