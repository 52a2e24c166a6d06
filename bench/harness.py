"""The harness every figure uses: the generated company, the Bench object, Row and the report.

A figure is a function `figure(bench: Bench) -> None` that measures and calls `bench.add(Row(...))`;
bench/__main__.py lists them by name.
"""

from __future__ import annotations

import json
import os
import platform
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

from bench.markdown import write_markdown
from bench.session import USER_AGENT, signed_session

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
        # The floors read the same database as ours, raw: sqlite3 on SQLite, psycopg on PostgreSQL.
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
        else:
            self.url = f"sqlite:///{self.sqlite_path}"
        self.ids = self._generate_into(self.url)
        self.floor_ids = self.ids
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
            "BENCH_DATABASE_URL": self.url,
            "PORTAL_INSTANCE_DIR": str(self.work / "instance"),
            "BENCH_QUICK": "1" if self.quick else "0",
        }
        # The floor app, imported in this process too, reads the same database.
        os.environ["BENCH_DATABASE_URL"] = self.url
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

    def jobs_floor_path(self) -> str:
        """The Jobs tab's floor (bench/floor_jobs.py), Ready to Update as the approver sees it."""
        return f"/jobs/{self.floor_ids.company_id}/{self.ids.approver_id}"

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

    # ------------------------------------------------------------- probes
    def _median_probe(self, what: str, project_id: int) -> dict:
        """Each run is a cold process on a fresh copy, so one sample is mostly noise: take the
        median of three (PostgreSQL: one, since the probe changes the shared database)."""
        samples = [self._probe(what, project_id) for _ in range(3 if self.db == "sqlite" else 1)]
        seconds = statistics.median(sample["seconds"] for sample in samples)
        peak = max(sample["peak_rss_mb"] for sample in samples)
        return {"seconds": seconds, "peak_rss_mb": peak, "samples": len(samples)}

    def _probe(self, what: str, project_id: int) -> dict:
        """Run in a child process so its peak RSS is its own."""
        if self.db == "postgresql":
            # Ours and the floor (raw psycopg) work on the shared database in turn.
            return self._run_probe(what, self.url, project_id, self.ids.pm_id, self.url)
        # Each probe works on its own copy of the generated SQLite file.
        copy = self.work / f"probe-{what}-{project_id}.sqlite"
        # The backup API, not a file copy: the live file may have frames in its WAL, and a
        # copy must never meet a -wal left over from an earlier probe of the same name.
        with closing(sqlite3.connect(self.sqlite_path)) as source, closing(sqlite3.connect(copy)) as target:
            source.backup(target)
        try:
            return self._run_probe(what, f"sqlite:///{copy}", project_id, self.ids.pm_id, copy)
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
        print(f"the table in Markdown: {write_markdown(self, path).relative_to(ROOT)}")
        return path
