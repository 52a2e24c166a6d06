"""Logs an administrator can read: one line per request (time, request id, user id, method,
path, status, duration), background jobs under the request id that queued them, JSON lines when
LOG_FORMAT=json, and unexpected errors with their traceback under the reference number the
error page shows.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import Flask, g, request

# The request (or the background job queued by it) that the current code runs for.
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)
current_user_id: ContextVar[str | None] = ContextVar("current_user_id", default=None)

REQUEST_LOG = logging.getLogger("portal.requests")
ERROR_LOG = logging.getLogger("portal.errors")
JOB_LOG = logging.getLogger("portal.jobs")
# A request id a proxy sends along (X-Request-ID) is kept when it is this plain.
_PLAIN_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HANDLER_MARK = "_portal_log_handler"
# huey storage key under which a queued task's request id waits for its worker.
_TASK_KEY = "request-id:{}"


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


class RequestContextFilter(logging.Filter):
    """Puts the request id and user id on every record, whichever logger made it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get() or "-"
        if not hasattr(record, "user_id"):
            record.user_id = current_user_id.get() or "-"
        return True


def _utc_time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = (f"{_utc_time(record)} {record.levelname} {record.name} "
                f"request={record.request_id} user={record.user_id} {record.getMessage()}")
        if record.exc_info:
            line += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return line


# Fields a request line carries for a log tool (`extra=` of REQUEST_LOG.info).
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "reference")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for a log collector."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": record.request_id,
            "user_id": record.user_id,
            "message": record.getMessage(),
        }
        entry.update({name: getattr(record, name) for name in REQUEST_FIELDS if hasattr(record, name)})
        if record.exc_info:
            entry["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry)


def log_handler(log_format: str, stream=None) -> logging.Handler:  # noqa: ANN001
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestContextFilter())
    setattr(handler, _HANDLER_MARK, True)
    return handler


def install_log_handler(log_format: str, stream=None) -> logging.Handler:  # noqa: ANN001
    """The portal's handler on the root logger, once per process (every app shares it)."""
    root = logging.getLogger()
    for existing in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(existing)
    handler = log_handler(log_format, stream)
    root.addHandler(handler)
    logging.getLogger("portal").setLevel(logging.INFO)
    return handler


def _start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _PLAIN_ID.match(incoming) else new_request_id()
    g.request_started = time.perf_counter()
    g.request_id_token = current_request_id.set(g.request_id)


def _user_id() -> str | None:
    # Only a user this request loaded already: logging must not cost a query.
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return str(user.id)  # the row's id (get_id() also carries the session's version)


def _log_request(response):  # noqa: ANN001, ANN202
    request_id = g.get("request_id")
    if request_id is None:
        return response
    duration = (time.perf_counter() - g.request_started) * 1000
    user_id = _user_id()
    if user_id:
        current_user_id.set(user_id)
    # A 304 is an open Jobs tab asking whether anything changed (every 3 s, per tab): at INFO,
    # fifty open tabs would write a million lines a day that say nothing happened.
    REQUEST_LOG.log(
        logging.DEBUG if response.status_code == 304 else logging.INFO,
        "%s %s %s %.1f ms", request.method, request.full_path.rstrip("?"), response.status_code, duration,
        extra={"method": request.method, "path": request.path, "status": response.status_code,
               "duration_ms": round(duration, 1), "user_id": user_id or "-"},
    )
    response.headers["X-Request-ID"] = request_id
    return response


def _end_request(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        current_request_id.reset(token)
    current_user_id.set(None)


def log_unexpected_error(error: BaseException) -> str:
    """The traceback in the log; returns the reference number the error page shows for it."""
    reference = g.get("request_id") or new_request_id()
    ERROR_LOG.error(
        "Unexpected error on %s %s (reference %s)", request.method, request.path, reference,
        exc_info=(type(error), error, error.__traceback__),
        extra={"reference": reference, "user_id": _user_id() or "-"},
    )
    return reference


def init_request_logging(app: Flask) -> None:
    if app.config.get("LOG_HANDLER", True):
        install_log_handler(app.config.get("LOG_FORMAT", "text"))
    app.before_request(_start_request)
    app.after_request(_log_request)
    app.teardown_request(_end_request)


def init_job_logging(huey) -> None:  # noqa: ANN001
    """A background job runs under the request id of the request that queued it."""
    from huey import signals

    @huey.signal(signals.SIGNAL_ENQUEUED)
    def _remember_request(_signal, task, *_args):  # noqa: ANN001, ANN202
        request_id = current_request_id.get()
        if request_id and not huey.immediate:
            huey.put(_TASK_KEY.format(task.id), request_id)

    @huey.pre_execute()
    def _adopt_request(task):  # noqa: ANN001, ANN202
        request_id = None if huey.immediate else huey.get(_TASK_KEY.format(task.id))
        task._portal_token = current_request_id.set(request_id or current_request_id.get())
        JOB_LOG.info("Task %s %s started", task.name, task.id)

    @huey.post_execute()
    def _forget_request(task, _value, exc):  # noqa: ANN001, ANN202
        # huey logs a failing task's traceback itself, under this same request id.
        JOB_LOG.info("Task %s %s %s", task.name, task.id, "failed" if exc is not None else "finished")
        token = getattr(task, "_portal_token", None)
        if token is not None:
            current_request_id.reset(token)
