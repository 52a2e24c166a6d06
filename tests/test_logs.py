"""Logs an administrator can read: a line per request, jobs under the request that queued them,
JSON lines when asked, and an error's traceback under the reference number its page shows."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest
from huey import MemoryHuey

from portal import create_app
from portal.config import TestConfig
from portal.logs import JsonFormatter, current_request_id, init_job_logging, install_log_handler
from tests.helpers import AuthActions, first_project, side_paths
from tests.refresh.test_refresh_views import refresh_url


@pytest.fixture
def log_output(app):
    """What the portal's log handler writes, as text lines (the app installed it; we point it here)."""
    stream = io.StringIO()
    install_log_handler("text", stream)
    yield stream
    install_log_handler("text")


def _lines(stream: io.StringIO, logger: str) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if f" {logger} " in line]


def test_each_request_logs_time_request_id_user_method_path_status_and_duration(client, auth, log_output):
    anonymous = client.get("/login")
    user = auth.login_as("viewer")
    projects = client.get("/projects/?q=x")

    first, second = _lines(log_output, "portal.requests")
    pattern = (r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO portal\.requests request=(\S+) user=(\S+) "
               r"(GET) (\S+) (\d{3}) (\d+\.\d) ms$")
    one, two = re.match(pattern, first), re.match(pattern, second)
    assert one.groups()[:5] == (anonymous.headers["X-Request-ID"], "-", "GET", "/login", "200")
    assert two.groups()[:5] == (
        projects.headers["X-Request-ID"], str(user.id), "GET", "/projects/?q=x", "200"
    )
    assert one.group(1) != two.group(1)


def test_a_plain_request_id_from_the_proxy_is_kept(client, log_output):
    response = client.get("/login", headers={"X-Request-ID": "proxy-42"})
    assert response.headers["X-Request-ID"] == "proxy-42"
    assert "request=proxy-42 " in _lines(log_output, "portal.requests")[0]
    odd = client.get("/login", headers={"X-Request-ID": "<script>"})
    assert odd.headers["X-Request-ID"] != "<script>"


def test_log_format_json_writes_one_json_object_per_line(database_url, tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, LOG_FORMAT="json",
                     **side_paths(tmp_path))
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_portal_log_handler", False))
    assert isinstance(handler.formatter, JsonFormatter)
    stream = io.StringIO()
    install_log_handler("json", stream)
    try:
        with app.app_context():
            response = app.test_client().get("/login")
    finally:
        install_log_handler("text")
    entry = json.loads(stream.getvalue().splitlines()[0])
    assert entry["logger"] == "portal.requests"
    assert entry["request_id"] == response.headers["X-Request-ID"]
    assert entry["user_id"] == "-"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/login", 200)
    assert isinstance(entry["duration_ms"], float)
    assert entry["time"].endswith("Z")


def test_an_error_page_shows_only_the_reference_number_the_log_has_the_traceback_under(
    app, client, log_output
):
    def broken():
        raise RuntimeError("the secret detail")

    app.add_url_rule("/broken-for-test", "broken_for_test", broken)
    user = AuthActions(client).login_as("viewer")
    response = client.get("/broken-for-test")

    page = response.get_data(as_text=True)
    assert response.status_code == 500
    reference = re.search(r"Reference number: <code>([0-9a-f]{12})</code>", page).group(1)
    assert "the secret detail" not in page and "Traceback" not in page
    log = log_output.getvalue()
    assert f"Unexpected error on GET /broken-for-test (reference {reference})" in log
    assert "Traceback (most recent call last)" in log
    assert "RuntimeError: the secret detail" in log
    assert f"request={reference} " in _lines(log_output, "portal.requests")[0]
    assert f"request={reference} user={user.id} " in _lines(log_output, "portal.errors")[0]


def test_a_job_queued_by_a_request_logs_under_that_requests_id(client, auth, log_output):
    auth.login_as("pm")
    response = client.htmx_post(refresh_url(first_project()))  # huey runs it at once in tests
    request_id = response.headers["X-Request-ID"]
    jobs = _lines(log_output, "portal.jobs")
    assert len(jobs) == 2
    assert all(f"request={request_id} " in line for line in jobs)
    assert "refresh_project_cost_codes_task" in jobs[0] and jobs[1].endswith("finished")


def test_a_job_run_by_a_worker_later_logs_under_the_request_id_that_queued_it():
    queue = MemoryHuey("log-test")
    init_job_logging(queue)
    seen = []

    @queue.task()
    def remember():
        seen.append(current_request_id.get())

    token = current_request_id.set("queued-by-42")
    remember()  # queued, not run: a worker takes it later, in another thread or process
    current_request_id.reset(token)
    assert seen == []
    queue.execute(queue.dequeue())
    assert seen == ["queued-by-42"]
    assert current_request_id.get() is None
