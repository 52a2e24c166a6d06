"""A log-in never holds the database while it checks a password (scrypt is slow on purpose)."""
from __future__ import annotations

import http.client
import sqlite3
import threading
from urllib.parse import urlencode, urlsplit

import pytest

from portal.extensions import db
from portal.models import Level
from tests.helpers import BACKEND, user_by_email
from tests.test_approval_concurrency import _logged_in_session


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's write lock only")
def test_a_log_in_holds_no_write_lock_while_it_checks_the_password(app, held_password_check):
    checking, finish = held_password_check
    answers = []

    def log_in():
        with app.app_context():
            client = app.test_client()
            form = {"email": "viewer@ridgeline.test", "password": "wrong"}
            answers.append(client.post_form("/login", form))
            db.session.remove()

    thread = threading.Thread(target=log_in)
    thread.start()
    try:
        assert checking.wait(30)
        other = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the log-in held the lock
            other.execute("ROLLBACK")
        finally:
            other.close()
    finally:
        finish.set()
        thread.join()
    assert answers[0].status_code == 200


def _post(base: str, path: str, body: str, headers: dict[str, str]) -> int:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        connection.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", **headers,
        })
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_parallel_wrong_log_ins_neither_fail_nor_block_an_admins_save(app, live_server):  # noqa: F811
    accountant = user_by_email("accountant@ridgeline.test")
    cookie, token = _logged_in_session(app, "admin")
    save_path = f"/company-admin/directory/{accountant.id}/tool-levels"
    db.session.rollback()  # let the server's writers have the database
    flooding = threading.Event()
    flooding.set()
    login_statuses: list[int] = []

    def flood(client_number: int):
        # Each client its own unknown account: the throttle lets 10 failures through for each.
        for _ in range(4):
            body = urlencode({"email": f"guess-{client_number}@ridgeline.test", "password": "wrong"})
            # Log-in needs a CSRF token of the client's own session: take one from the form.
            login_statuses.append(_wrong_log_in(live_server, body))
            if not flooding.is_set():
                return

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    save_statuses = []
    for level in [Level.ADMIN, Level.STANDARD] * 3:
        form = {"erp_integrations_level": int(level), "company_admin_level": 0, "csrf_token": token}
        body = urlencode(form)
        save_statuses.append(_post(live_server, save_path, body, {"Cookie": f"session={cookie}"}))
    flooding.clear()
    for thread in threads:
        thread.join()
    assert save_statuses == [302] * 6
    # Wrong passwords ("Wrong e-mail or password") or, past the checks one process runs at
    # once, "try again in a few seconds": never an error.
    assert login_statuses.count(200) > 0 and set(login_statuses) <= {200, 429}, login_statuses
    db.session.expire_all()
    assert user_by_email("accountant@ridgeline.test").erp_integrations_level == Level.STANDARD


def _wrong_log_in(base: str, body: str) -> int:
    """A browser's wrong log-in: fetch the form (session + CSRF token), post it."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        connection.request("GET", "/login")
        page = connection.getresponse()
        html = page.read().decode()
        cookie = page.getheader("Set-Cookie").split(";", 1)[0]
        token = html.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    finally:
        connection.close()
    return _post(base, "/login", f"{body}&csrf_token={token}", {"Cookie": cookie})
