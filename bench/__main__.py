"""`make bench` (or `python -m bench [--quick] [--db postgresql]`).

Each figure is printed beside a floor measured in the same run on the same machine, and as a
ratio to it, because these machines are noisy: absolute numbers mean little, ratios travel.
Results go to stdout as a table and to bench-results/<timestamp>.json.

The exit status is not a verdict on speed: a missed ratio target shows as MISSED in the table and
the run still succeeds. It fails (exit 1) when a figure could not be measured (an exception) or
found the portal wrong (server errors, lost updates, a code that never reached the ERP), or when
the SQLite file is damaged; so CI can run `make bench QUICK=1` as a smoke test on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.session import USER_AGENT, server_log, signed_session

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
BIN = Path(sys.executable).parent
SECRET = "bench-secret-key-not-for-production-0123456789"


class PortalWrong(Exception):
    """A figure found the portal misbehaving, which no machine's speed excuses."""


@dataclass
class Row:
    figure: str
    ours: float
    floor: float | None
    unit: str
    # "time": lower is better, ratio = ours / floor; "rate": higher is better, ratio = ours / floor
    kind: str
    target: str
    ok: bool | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.floor:
            return None
        return self.ours / self.floor


def median_ms(call: Callable[[], object], repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds}s")


def wait_for_answer(port: int, path: str, cookie: str | None, seconds: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"User-Agent": USER_AGENT})
    if cookie:
        request.add_header("Cookie", f"session={cookie}")
    while True:
        try:
            with urllib.request.urlopen(request, timeout=seconds) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


class Bench:
    def __init__(self, quick: bool, db: str):
        from bench.generate import Scale

        self.quick = quick
        self.db = db
        self.scale = Scale.quick() if quick else Scale()
        self.work = Path(tempfile.mkdtemp(prefix="ccp-bench-"))
        self.sqlite_path = self.work / "portal.sqlite"
        self.erp_url = f"sqlite:///{self.work / 'erp.sqlite'}"
        self.rows: list[Row] = []
        self.pg_name: str | None = None

    # ---------------------------------------------------------------- set-up
    def build(self) -> None:
        from portal import create_app
        from portal.config import Config

        started = time.perf_counter()
        # The floors always read raw SQLite; ours reads the chosen database.
        self.floor_ids = self._generate_into(f"sqlite:///{self.sqlite_path}")
        if self.db == "postgresql":
            from sqlalchemy import create_engine, text

            self.pg_name = f"ccp_bench_{os.getpid()}"
            admin = create_engine(
                "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
            )
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.pg_name}"'))
            admin.dispose()
            self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.pg_name}"
            self.ids = self._generate_into(self.url)
        else:
            self.url = f"sqlite:///{self.sqlite_path}"
            self.ids = self.floor_ids
        self.app = create_app(
            Config,
            SQLALCHEMY_DATABASE_URI=self.url,
            ERP_DATABASE_URL=self.erp_url,
            SECRET_KEY=SECRET,
            HUEY_IMMEDIATE=True,
            RATELIMIT_ENABLED=False,
        )
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "ERP_DATABASE_URL": self.erp_url,
            "SECRET_KEY": SECRET,
            "HUEY_IMMEDIATE": "1",
            "BENCH_SQLITE_PATH": str(self.sqlite_path),
            "PORTAL_INSTANCE_DIR": str(self.work / "instance"),
            "BENCH_QUICK": "1" if self.quick else "0",
        }
        print(f"generated {self.scale} in {time.perf_counter() - started:.1f}s ({self.db})", flush=True)

    def _generate_into(self, url: str):
        from bench.generate import generate
        from portal import create_app
        from portal.config import Config
        from portal.extensions import db

        app = create_app(Config, SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=SECRET, HUEY_IMMEDIATE=True)
        with app.app_context():
            db.create_all()
            ids = generate(db.session, self.scale)
            db.session.remove()
            if db.engine.dialect.name == "postgresql":
                # A database just loaded in bulk has no planner statistics until autovacuum
                # comes round; a portal that has run a while has them.
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE")
            db.engine.dispose()
        return ids

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        if self.pg_name:
            from sqlalchemy import create_engine, text

            admin = create_engine(
                "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
            )
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))
            admin.dispose()

    def session_cookie(self, user_id: int) -> str:
        from portal.extensions import db
        from portal.models import User

        with self.app.app_context():
            return signed_session(self.app, db.session.get(User, user_id), f"bench-csrf-{user_id}")

    def client(self, user_id: int):
        client = self.app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
        client.set_cookie("session", self.session_cookie(user_id))
        return client

    def add(self, row: Row) -> None:
        self.rows.append(row)
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        floor = row.floor if row.floor is not None else "-"
        print(
            f"  {row.figure}: {row.ours:.2f} {row.unit} (floor {floor}; "
            f"ratio {ratio}; target {row.target}) {row.note}",
            flush=True,
        )

    # ------------------------------------------------------------- figures
    def jobs_tab_in_process(self) -> None:
        from bench.floor_app import app as floor_app

        url = "/erp-integrations/jobs?filter=ready_to_update"
        client = self.client(self.ids.approver_id)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        # As for a logged-in browser: the page leaves the session alone.
        assert "Set-Cookie" not in response.headers, response.headers.get("Set-Cookie")
        floor_client = floor_app.test_client()
        os.environ["BENCH_SQLITE_PATH"] = str(self.sqlite_path)
        floor_url = f"/ready-to-update/{self.floor_ids.company_id}"
        repeat = 30 if self.quick else 100
        ours = median_ms(lambda: client.get(url), repeat)
        floor = median_ms(lambda: floor_client.get(floor_url), repeat)
        self.add(
            Row(
                "Jobs tab, Ready to Update, page of 50 (in-process median)",
                ours,
                floor,
                "ms",
                "time",
                "report",
                None,
            )
        )

    def update_window(self) -> None:
        from flask import url_for

        from bench.floor_app import app as floor_app

        with self.app.test_request_context():
            url = url_for("erp_integrations.requested_updates", request_id=self.ids.big_request_id)
        client = self.client(self.ids.approver_id)
        response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200, (url, response.status_code)
        assert response.data.count(b"<tr") >= self.scale.big_request_lines
        floor_client = floor_app.test_client()
        os.environ["BENCH_SQLITE_PATH"] = str(self.sqlite_path)
        repeat = 10 if self.quick else 30
        ours = median_ms(lambda: client.get(url, headers={"HX-Request": "true"}), repeat)
        floor = median_ms(lambda: floor_client.get(f"/window/{self.floor_ids.big_request_id}"), repeat)
        ratio = ours / floor
        self.add(
            Row(
                f"Cost Codes for Update window, {self.scale.big_request_lines} lines",
                ours,
                floor,
                "ms",
                "time",
                "<= 1.5x floor time",
                ratio <= 1.5,
            )
        )

    def jobs_tab_served(self) -> None:
        if not shutil.which("wrk"):
            self.add(
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
        cookie = self.session_cookie(self.ids.approver_id)
        seconds = 3 if self.quick else 10
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
            ours = self._wrk(
                command("wsgi:app", free_port()),
                "/erp-integrations/jobs?filter=ready_to_update",
                cookie,
                seconds,
            )
            floor = self._wrk(
                command("bench.floor_app:app", free_port()),
                f"/ready-to-update/{self.floor_ids.company_id}",
                None,
                seconds,
            )
            self.add(
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

    def _wrk(self, command: list[str], path: str, cookie: str | None, seconds: int) -> tuple[float, int]:
        port = int(re.search(r"127\.0\.0\.1:(\d+)", " ".join(command)).group(1))
        server = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=server_log("jobs-tab")
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

    def refresh(self) -> None:
        for label, project_id in (
            ("empty project", self.ids.empty_project_id),
            ("project already up to date", self.ids.up_to_date_project_id),
        ):
            ours = self._median_probe("refresh", project_id)
            floor = self._median_probe("floor", project_id)
            self.add(
                Row(
                    f"Refresh one project from {self.scale.standard_codes} company codes, {label}",
                    ours["seconds"] * 1000,
                    floor["seconds"] * 1000,
                    "ms",
                    "time",
                    "<= 2x floor time, <= 150 MB peak RSS",
                    ours["seconds"] <= 2 * floor["seconds"] and ours["peak_rss_mb"] <= 150,
                    f"peak RSS {ours['peak_rss_mb']:.0f} MB (floor process {floor['peak_rss_mb']:.0f} MB); "
                    f"median of {ours['samples']} cold runs",
                )
            )

    def _median_probe(self, what: str, project_id: int) -> dict:
        """Each run is a cold process on a fresh copy, so one sample is mostly noise: take the
        median of three (PostgreSQL: one, since the probe changes the shared database)."""
        samples = [self._probe(what, project_id) for _ in range(3 if self.db == "sqlite" else 1)]
        seconds = statistics.median(sample["seconds"] for sample in samples)
        peak = max(sample["peak_rss_mb"] for sample in samples)
        return {"seconds": seconds, "peak_rss_mb": peak, "samples": len(samples)}

    def _probe(self, what: str, project_id: int) -> dict:
        """Run in a child process so its peak RSS is its own."""
        # Each probe works on its own copy of the generated SQLite file (the floor always does).
        copy = self.work / f"probe-{what}-{project_id}.sqlite"
        # The backup API, not a file copy: the live file may have frames in its WAL, and a
        # copy must never meet a -wal left over from an earlier probe of the same name.
        with closing(sqlite3.connect(self.sqlite_path)) as source, closing(sqlite3.connect(copy)) as target:
            source.backup(target)
        url = f"sqlite:///{copy}" if self.db == "sqlite" else self.url
        try:
            return self._run_probe(what, url, project_id, self.ids.pm_id, copy)
        finally:
            for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
                leftover.unlink(missing_ok=True)

    def _run_probe(self, what: str, url: str, project_id: int, actor_id: int, scratch: object) -> dict:
        """`python -m bench.probe …` in a child process; its last output line is its JSON result."""
        output = subprocess.run(
            [sys.executable, "-m", "bench.probe", what, url, str(project_id), str(actor_id), str(scratch)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        if output.returncode != 0:
            raise RuntimeError(output.stderr[-3000:])
        return json.loads(output.stdout.strip().splitlines()[-1])

    def sync_export(self) -> None:
        scratch = self.work / "export-floor.sqlite"
        result = self._run_probe("export", self.url, 0, self.ids.approver_id, scratch)
        self.add(
            Row(
                f"Sync export of {result['lines']} approved lines to the reference ERP",
                result["seconds"] * 1000,
                result["floor_seconds"] * 1000,
                "ms",
                "time",
                "<= 3x floor",
                result["seconds"] <= 3 * result["floor_seconds"],
                f"{result['in_erp']} lines in the ERP after",
            )
        )

    def approval_to_erp(self) -> None:
        result = self._run_probe("approval-to-erp", self.url, 0, self.ids.approver_id, "-")
        self.add(
            Row(
                "Approval -> code present in the reference ERP, with Sync Now",
                result["seconds"],
                None,
                "s",
                "time",
                "<= 5 s",
                result["seconds"] <= 5 and result["present"],
            )
        )
        if not result["present"]:
            raise PortalWrong("the approved code never reached the reference ERP")

    def mixed_load(self) -> None:
        from bench.mixed import run_mixed_load

        seconds = 10 if self.quick else 60
        result = run_mixed_load(self, seconds)
        self.add(
            Row(
                f"Mixed load {seconds}s, gunicorn -w 2: Jobs tab reads + 20 approvals + 5 refreshes",
                result["p50_ms"],
                None,
                "ms p50",
                "time",
                "0 errors, 0 lost updates",
                result["errors"] == 0 and result["lost_updates"] == 0,
                f"p99 {result['p99_ms']:.1f} ms, {result['reads']} reads, errors {result['errors']}, "
                f"lost updates {result['lost_updates']} (approvals answered {result['approvals_accepted']}, "
                f"stored {result['approved']}; refreshes answered {result['refreshes_accepted']}, "
                f"stored {result['refreshed']})",
            )
        )
        if result["errors"] or result["lost_updates"]:
            raise PortalWrong(f"{result['errors']} server errors, {result['lost_updates']} lost updates")

    def login_flood(self) -> None:
        from bench.login_flood import CLIENTS, run_login_flood

        seconds = 4 if self.quick else 10
        result = run_login_flood(self, seconds)
        self.add(
            Row(
                f"Log-in flood {seconds}s, {CLIENTS} clients' wrong passwords: "
                "admin's save p99 (floor: no flood)",
                result["flood_p99_ms"],
                result["quiet_p99_ms"],
                "ms",
                "time",
                "0 errors",
                result["errors"] == 0,
                f"errors {result['errors']}, {result['wrong_log_ins']} wrong log-ins answered "
                f"({result['log_ins_per_s']:.1f}/s), {result['throttled']} throttled; "
                f"{result['saves']} saves, p50 {result['flood_p50_ms']:.1f} ms",
            )
        )

    def open_tabs(self) -> None:  # bench/open_tabs.py
        from bench.open_tabs import open_tabs

        open_tabs(self)

    # ------------------------------------------------------------- report
    def report(self) -> Path:
        print()
        print(f"{'figure':<78} {'ours':>12} {'floor':>12} {'ratio':>7}  target / met")
        for row in self.rows:
            floor = f"{row.floor:.2f}" if row.floor is not None else "-"
            ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
            met = {True: "met", False: "MISSED", None: "-"}[row.ok]
            print(
                f"{row.figure[:78]:<78} {row.ours:>9.2f} {row.unit:<3}{floor:>12} {ratio:>7}  "
                f"{row.target} / {met}"
                + (f"  ({row.note})" if row.note else "")
            )
        RESULTS.mkdir(exist_ok=True)
        path = (
            RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}{'-quick' if self.quick else ''}-{self.db}.json"
        )
        path.write_text(
            json.dumps(
                {
                    "quick": self.quick,
                    "db": self.db,
                    "scale": asdict(self.scale),
                    "machine": platform.platform(),
                    "cpus": os.cpu_count(),
                    "rows": [{**asdict(row), "ratio": row.ratio} for row in self.rows],
                },
                indent=2,
            )
        )
        return path


FIGURES = [
    "jobs_tab_in_process",
    "update_window",
    "jobs_tab_served",
    "refresh",
    "sync_export",
    "approval_to_erp",
    "mixed_load",
    "login_flood",
    "open_tabs",
]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a small company, short runs (under two minutes)"
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--only", action="append", choices=FIGURES, help="run only these figures")
    args = parser.parse_args()
    bench = Bench(args.quick, args.db)
    failures = 0
    try:
        bench.build()
        for name in args.only or FIGURES:
            print(f"- {name}", flush=True)
            try:
                getattr(bench, name)()
            except Exception as error:  # one broken figure must not hide the others
                failures += 1
                print(f"  {name} FAILED: {error!r}", flush=True)
            if args.db == "sqlite":
                # Seen once at full size (not reproduced since): "database disk image is
                # malformed" in the mixed load. Every figure now says whether the file is whole.
                with sqlite3.connect(bench.sqlite_path) as connection:
                    integrity = connection.execute("PRAGMA quick_check").fetchone()[0]
                print(f"  database integrity after {name}: {integrity}", flush=True)
                if integrity != "ok":
                    failures += 1
        path = bench.report()
        print(f"\nwritten to {path.relative_to(ROOT)}")
    finally:
        bench.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
