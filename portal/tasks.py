"""Background work with huey. Tasks only call services; their state lives in the portal database.

Storage: SQLite file by default (consumer threads started beside the web server), Redis when
REDIS_URL is set (consumers on several machines), immediate mode in tests.
"""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

from flask import Flask, has_app_context
from huey import RedisHuey, SqliteHuey

from portal.config import Config


def _make_huey():
    if Config.REDIS_URL:
        return RedisHuey("cost-code-portal", url=Config.REDIS_URL)
    Path(Config.HUEY_SQLITE_PATH).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("cost-code-portal", filename=Config.HUEY_SQLITE_PATH)


huey = _make_huey()
_consumer_app: Flask | None = None


def configure_huey(app: Flask) -> None:
    huey.immediate = bool(app.config.get("HUEY_IMMEDIATE"))


def app_context():
    """Tasks run inside the caller's app (immediate mode) or the consumer process's own app."""
    global _consumer_app
    if has_app_context():
        return nullcontext()
    if _consumer_app is None:
        from portal import create_app

        _consumer_app = create_app()
    return _consumer_app.app_context()


def start_consumer(workers: int = 2):
    """Consumer threads inside the web server's process, for the one-machine default."""
    import signal

    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.start()
    # huey installs its own handlers; give Ctrl-C back to the web server, which stops both.
    signal.signal(signal.SIGINT, previous[0])
    signal.signal(signal.SIGTERM, previous[1])
    return consumer



# --- Refresh Cost Codes tasks (refresh issue) ---


# --- Data sync tasks (sync issue) ---
