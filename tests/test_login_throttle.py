"""Failed log-ins are throttled per address, per account from an address, and per account."""
from __future__ import annotations

import threading

import pytest

from portal import create_app
from portal.config import TestConfig
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from tests.helpers import PortalClient, side_paths

WRONG = "not-the-password"  # noqa: S105 (a test's password)


def log_in(client, email: str, password: str = WRONG, address: str = "10.0.0.5", **headers):
    return client.post_form(
        "/login", {"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address}, headers=headers,
    )


def test_parallel_wrong_passwords_check_no_more_passwords_than_the_limit(app):
    # 40 at once against a limit of 10: the limit is charged before each check, atomically,
    # so no more than 10 of them get as far as having their password checked.
    app.config["LOGIN_CONCURRENT_CHECKS"] = 40  # all 40 may check at once, as far as that goes
    statuses: list[int] = []

    def attempt():
        with app.app_context():
            response = log_in(app.test_client(), "viewer@ridgeline.test")
            statuses.append(response.status_code)
            db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 40
    assert statuses.count(200) == 10  # "Wrong e-mail or password": these were checked
    assert statuses.count(429) == 30


def test_one_address_is_refused_after_twenty_failures_whatever_the_emails(client):
    answers = [log_in(client, f"nobody-{n}@ridgeline.test") for n in range(30)]
    assert [a.status_code for a in answers] == [200] * 20 + [429] * 10
    refused = answers[-1]
    assert "Try again in 15 minutes." in refused.data.decode()
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    # The same address, a right password: still refused until the wait is over.
    assert log_in(client, "viewer@ridgeline.test", DEMO_PASSWORD).status_code == 429
    # Another address is not held up.
    assert log_in(client, "viewer@ridgeline.test", DEMO_PASSWORD, address="10.0.0.6").status_code == 302


def test_guesses_from_one_machine_do_not_lock_the_user_out_from_theirs(client):
    for _ in range(10):
        assert log_in(client, "admin@ridgeline.test", address="10.0.0.66").status_code == 200
    assert log_in(client, "admin@ridgeline.test", DEMO_PASSWORD, address="10.0.0.66").status_code == 429
    assert log_in(client, "admin@ridgeline.test", DEMO_PASSWORD, address="10.0.0.7").status_code == 302


def test_an_account_has_a_ceiling_across_addresses(app, client):
    app.config["LOGIN_ACCOUNT_FAILURE_LIMIT"] = "3 per 15 minutes"
    for n in range(3):
        assert log_in(client, "viewer@ridgeline.test", address=f"10.0.1.{n}").status_code == 200
    refused = log_in(client, "viewer@ridgeline.test", DEMO_PASSWORD, address="10.0.1.99")
    assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_a_right_password_is_not_counted_as_a_failure(app, client):
    app.config["LOGIN_ADDRESS_FAILURE_LIMIT"] = "2 per 15 minutes"
    for _ in range(3):
        assert log_in(client, "viewer@ridgeline.test", DEMO_PASSWORD).status_code == 302
        client.post_form("/logout")


def test_x_forwarded_for_is_ignored_without_trusted_proxies(app, client):
    app.config["LOGIN_ADDRESS_FAILURE_LIMIT"] = "3 per 15 minutes"
    answers = [
        log_in(client, f"nobody-{n}@ridgeline.test", **{"X-Forwarded-For": f"192.0.2.{n}"})
        for n in range(4)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]


@pytest.fixture
def proxied_app(database_url, tmp_path):
    app = create_app(
        TestConfig, SQLALCHEMY_DATABASE_URI=database_url, TRUSTED_PROXIES=1,
        LOGIN_ADDRESS_FAILURE_LIMIT="3 per 15 minutes", **side_paths(tmp_path),
    )
    app.test_client_class = PortalClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_behind_a_trusted_proxy_the_address_is_the_one_it_forwards(proxied_app):
    client = proxied_app.test_client()
    # All from the proxy's own address, for three different clients: none is refused ...
    for n in range(3):
        for _ in range(2):
            forwarded = {"X-Forwarded-For": f"192.0.2.{n}"}
            answer = log_in(client, f"nobody-{n}@ridgeline.test", address="10.9.9.9", **forwarded)
            assert answer.status_code == 200
    # ... and one client who puts a made-up address first is still counted by its real one.
    answers = [
        log_in(client, "nobody@ridgeline.test", address="10.9.9.9",
               **{"X-Forwarded-For": f"198.51.100.{n}, 192.0.2.0"})
        for n in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 429]


def test_log_ins_beyond_the_checks_running_at_once_are_asked_to_try_again_at_once(
    app, client, held_password_check
):
    app.config["LOGIN_CONCURRENT_CHECKS"] = 1
    checking, finish = held_password_check
    first = []

    def log_in_slowly():
        with app.app_context():
            first.append(log_in(app.test_client(), "viewer@ridgeline.test", DEMO_PASSWORD))
            db.session.remove()

    thread = threading.Thread(target=log_in_slowly)
    thread.start()
    try:
        assert checking.wait(30)
        busy = log_in(client, "approver@ridgeline.test", DEMO_PASSWORD, address="10.0.0.8")
    finally:
        finish.set()
        thread.join()
    assert busy.status_code == 429 and busy.headers["Retry-After"] == "2"
    assert "Try again in a few seconds." in busy.data.decode()
    assert first[0].status_code == 302
    # The refused attempt was not counted against anyone: the approver logs in now.
    assert log_in(client, "approver@ridgeline.test", DEMO_PASSWORD, address="10.0.0.8").status_code == 302
