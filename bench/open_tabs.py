"""50 open Jobs tabs (issue 18): other requests' p99 with the tabs polling, against none open.

Each open tab does what static/js/live_jobs.js does in a browser: every POLL_SECONDS it asks the
tab's live address on its own kept-alive connection, with the session cookie, HX-Request and the
If-None-Match of what it shows, and is answered 304 while nothing changed. The tabs run in a
process of their own, so that their threads do not slow the measuring client's.

"Other requests" are OTHER_USERS people reading the Jobs tab (Ready to Update, the full page),
each pausing THINK_SECONDS between pages. The floor is their p99 with no tab polling, on the same
server, in stretches alternating with TABS tabs polling (so that a shared machine's other load
falls on both alike); the target is at most 1.5x the floor, under `gunicorn -w 2` (sync workers:
a tab must not hold one) and under waitress. The tabs open their page before the first stretch.
"""

from __future__ import annotations

import http.client
import multiprocessing
import random
import re
import statistics
import subprocess
import threading
import time

from bench.session import USER_AGENT, server_log

TABS = 50
POLL_SECONDS = 3.0  # live_jobs.js's INTERVAL
OTHER_USERS = 2
THINK_SECONDS = 0.05
TARGET = 1.5


def _get(connection: http.client.HTTPConnection, path: str, headers: dict) -> tuple[int, dict, bytes]:
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    return response.status, dict(response.getheaders()), body


def _headers(cookie: str, **extra: str) -> dict:
    return {"Cookie": f"session={cookie}", "User-Agent": USER_AGENT, **extra}


def _tab(port: int, page: str, cookie: str, seed: int, gate, stop, opened, results) -> None:
    """One open tab: the page once, then a poll every POLL_SECONDS with the tag it holds, while
    `gate` is set (the measuring side opens and closes it to compare with no tab polling)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, _headers_got, body = _get(connection, page, _headers(cookie))
    found = re.search(rb'data-jobs-live="([^"]+)" data-etag="([^"]+)"', body)
    if status != 200 or not found:
        opened.put(seed)
        results.put(("error", status))
        return
    url = found.group(1).decode().replace("&amp;", "&")
    tag = found.group(2).decode().replace("&#34;", '"').replace("&quot;", '"')
    opened.put(seed)
    counts = {"304": 0, "200": 0, "error": 0}
    latencies = []
    poll_headers = {"HX-Request": "true"}
    # Tabs were opened at different moments: their polls spread over the interval.
    slot = time.monotonic() + random.Random(seed).uniform(0, POLL_SECONDS)
    while not stop.wait(max(0.0, slot - time.monotonic())):
        slot += POLL_SECONDS
        if not gate.is_set():
            continue
        started = time.perf_counter()
        try:
            status, got, _ = _get(connection, url, _headers(cookie, **poll_headers, **{"If-None-Match": tag}))
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            counts["error"] += 1
            status, got = 0, {}
        latencies.append((time.perf_counter() - started) * 1000)
        if got.get("Connection", "").lower() == "close":
            connection.close()  # gunicorn's sync workers keep no connection open
        if status == 304:
            counts["304"] += 1
        elif status == 200:
            counts["200"] += 1
            tag = got.get("ETag", tag)
        elif status:
            counts["error"] += 1
    results.put(("done", counts, latencies))


def _tabs_process(port: int, page: str, cookie: str, gate, stop, opened, results) -> None:
    threads = [
        threading.Thread(
            target=_tab, args=(port, page, cookie, seed, gate, stop, opened, results), daemon=True
        )
        for seed in range(TABS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def _other_requests(port: int, page: str, cookie: str, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def person() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                status, got, _ = _get(connection, page, _headers(cookie))
            except (OSError, http.client.HTTPException):
                status, got = 599, {"Connection": "close"}
            elapsed = (time.perf_counter() - started) * 1000
            if got.get("Connection", "").lower() == "close":
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with lock:
                latencies.append(elapsed)
                if status >= 400:
                    errors[0] += 1
            time.sleep(THINK_SECONDS)

    people = [threading.Thread(target=person) for _ in range(OTHER_USERS)]
    for thread in people:
        thread.start()
    for thread in people:
        thread.join()
    return latencies, errors[0]


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies) or [0.0]
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


def measure(
    command: list[str], port: int, env: dict, page: str, cookie: str, seconds: float, rounds: int
) -> dict:
    """Other requests' p99 with no tab polling and with TABS tabs polling, on one server.

    The two alternate in `rounds` stretches each, so that the rest of a shared machine's load
    falls on both alike."""
    from bench.harness import ROOT, wait_for_answer, wait_for_port

    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=server_log("open-tabs")
    )
    try:
        wait_for_port(port)
        wait_for_answer(port, page, cookie)
        _other_requests(port, page, cookie, 1.0)  # warm both workers' caches
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        gate, stop, opened = context.Event(), context.Event(), context.Queue()
        tabs = context.Process(target=_tabs_process, args=(port, page, cookie, gate, stop, opened, results))
        tabs.start()
        # The tabs open (a page each) before anything is measured.
        for _ in range(TABS):
            opened.get(timeout=60)
        quiet: list[float] = []
        busy: list[float] = []
        errors = 0
        for _ in range(rounds):
            gate.clear()
            latencies, failed = _other_requests(port, page, cookie, seconds / rounds)
            quiet += latencies
            gate.set()
            latencies, failed_with_tabs = _other_requests(port, page, cookie, seconds / rounds)
            busy += latencies
            errors += failed + failed_with_tabs
        gate.clear()
        stop.set()
        counts = {"304": 0, "200": 0, "error": 0}
        polls: list[float] = []
        for _ in range(TABS):
            item = results.get(timeout=seconds + 90)
            if item[0] == "error":
                counts["error"] += 1
                continue
            for key, value in item[1].items():
                counts[key] += value
            polls += item[2]
        tabs.join(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {
        "quiet_p99_ms": _p99(quiet),
        "tabs_p99_ms": _p99(busy),
        "quiet_requests": len(quiet),
        "tabs_requests": len(busy),
        "errors": errors + counts["error"],
        "polls": counts["304"] + counts["200"],
        "not_modified": counts["304"],
        "poll_p50_ms": statistics.median(polls) if polls else 0.0,
    }


def open_tabs(bench) -> None:
    """The figure: one row per server, its ratio against TARGET."""
    from bench.harness import BIN, Row, free_port

    seconds, rounds = (4, 2) if bench.quick else (24, 8)
    cookie = bench.session_cookie(bench.ids.approver_id)
    page = "/erp-integrations/jobs?filter=ready_to_update"
    servers = {
        "gunicorn -w 2": lambda port: [
            str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app",
        ],
        "waitress": lambda port: [
            str(BIN / "waitress-serve"), "--threads", "8", f"--listen=127.0.0.1:{port}", "wsgi:app",
        ],
    }
    for name, command in servers.items():
        port = free_port()
        result = measure(command(port), port, bench.env, page, cookie, seconds, rounds)
        ratio = result["tabs_p99_ms"] / result["quiet_p99_ms"] if result["quiet_p99_ms"] else None
        # The tabs must have polled as often as open tabs do, or the figure measured nothing.
        expected = TABS * seconds / POLL_SECONDS
        polled = result["polls"] >= 0.8 * expected
        bench.add(
            Row(
                f"{TABS} open Jobs tabs polling every {POLL_SECONDS:g}s, {name}: other requests' p99 "
                f"(floor: none polling; {rounds}x{seconds / rounds:g}s each)",
                result["tabs_p99_ms"],
                result["quiet_p99_ms"],
                "ms",
                "time",
                f"<= {TARGET}x floor, 0 errors",
                ratio is not None and ratio <= TARGET and result["errors"] == 0 and polled,
                f"errors {result['errors']}; {result['polls']} polls (of ~{expected:.0f}), "
                f"{result['not_modified']} answered 304, "
                f"poll p50 {result['poll_p50_ms']:.1f} ms; other requests {result['quiet_requests']} "
                f"quiet / {result['tabs_requests']} with tabs",
            )
        )
