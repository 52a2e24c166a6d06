"""Log-in flood: 8 clients post wrong passwords to the served portal while an admin saves a form.

A log-in checks its password with scrypt, slow on purpose; it must hold no database lock while
it does, so the admin's save takes about as long as with no flood, and no answer is a 5xx.
Each wrong log-in comes from its own address (through one trusted proxy, TRUSTED_PROXIES=1)
and for its own unknown e-mail, so the throttle lets every one of them be checked: the
flood measures the password checks, not the throttle's quick refusals.
"""

from __future__ import annotations

import http.client
import statistics
import subprocess
import threading
import time
import urllib.parse

from flask import url_for

from bench.mixed import _cookie_and_token
from bench.session import USER_AGENT, server_log

CLIENTS = 8


def _request(port: int, method: str, path: str, headers: dict[str, str], body: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
        return response.status, response.getheader("Set-Cookie") or "", response.read().decode()
    except OSError:
        return 599, "", ""
    finally:
        connection.close()


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) >= 2 else (samples or [0.0])[0]


def run_login_flood(bench, seconds: int) -> dict:
    from bench.harness import BIN, ROOT, free_port, wait_for_port
    from portal.extensions import db
    from portal.models import Level, User

    app = bench.app
    with app.app_context():
        admin = db.session.get(User, bench.ids.approver_id)
        cookie, token = _cookie_and_token(app, admin)
        with app.test_request_context():
            save_path = url_for("company_admin.set_tool_levels", user_id=bench.ids.pm_id)
        db.session.remove()
    form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    admin_headers = {**form_headers, "Cookie": f"session={cookie}"}

    def save(level: Level) -> float:
        body = urllib.parse.urlencode(
            {"erp_integrations_level": int(level), "company_admin_level": 0, "csrf_token": token}
        )
        started = time.perf_counter()
        status, _, _ = _request(port, "POST", save_path, admin_headers, body)
        if status != 302:
            raise RuntimeError(f"the admin's save answered {status}")
        return (time.perf_counter() - started) * 1000

    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "waitress-serve"), "--threads", "8", f"--listen=127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env={**bench.env, "TRUSTED_PROXIES": "1"},
        stdout=subprocess.DEVNULL, stderr=server_log("login-flood"),
    )
    levels = [Level.READ_ONLY, Level.STANDARD]
    stop = threading.Event()
    lock = threading.Lock()
    answers: dict[int, int] = {}
    try:
        wait_for_port(port)
        for index in range(5):  # warm up
            save(levels[index % 2])
        quiet = [save(levels[index % 2]) for index in range(40 if bench.quick else 100)]

        def flood(client: int) -> None:
            status, set_cookie, page = _request(port, "GET", "/login", {})
            session = set_cookie.split(";", 1)[0]
            csrf = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
            attempt = 0
            while not stop.is_set():
                attempt += 1
                body = urllib.parse.urlencode(
                    {"email": f"guess-{client}-{attempt}@bench.test", "password": "wrong", "csrf_token": csrf}
                )
                address = f"10.{client}.{attempt // 250}.{attempt % 250}"
                headers = {**form_headers, "Cookie": session, "X-Forwarded-For": address}
                status, _, _ = _request(port, "POST", "/login", headers, body)
                with lock:
                    answers[status] = answers.get(status, 0) + 1

        threads = [threading.Thread(target=flood, args=(client,)) for client in range(CLIENTS)]
        for thread in threads:
            thread.start()
        flooded = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            flooded.append(save(levels[len(flooded) % 2]))
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=10)
    wrong = answers.get(200, 0)
    return {
        "quiet_p99_ms": _p99(quiet),
        "flood_p99_ms": _p99(flooded),
        "flood_p50_ms": statistics.median(flooded),
        "saves": len(flooded),
        "wrong_log_ins": wrong,
        "log_ins_per_s": wrong / seconds,
        "errors": sum(count for status, count in answers.items() if status >= 500),
        "throttled": answers.get(429, 0),
    }
