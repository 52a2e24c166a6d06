"""`flask portal …`: create-company, create-user (password asked twice), seed-demo --if-empty."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from portal.models import AuditEvent, Company, Level, User
from portal.passwords import password_matches
from tests.helpers import side_paths


@pytest.fixture
def empty_app(tmp_path):
    """An app on an empty (but migrated-shape) database, as on a fresh install."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.sqlite'}",
                     **side_paths(tmp_path))
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def cli(empty_app):
    runner = empty_app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):  # noqa: A002 (click's own name)
        return runner.invoke(args=["portal", *args], input=input)

    return invoke


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def acme(cli) -> Company:
    result = cli("create-company", "Acme Builders", "--slug", "acme", "--erp", "sage100c")
    assert result.exit_code == 0, result.output
    return db.session.scalar(select(Company).where(Company.slug == "acme"))


def test_create_company(cli, acme):
    assert acme.name == "Acme Builders" and acme.erp_system == "sage100c"
    assert count(AuditEvent) == 1


def test_create_company_with_a_taken_slug_is_a_clear_error(cli, acme):
    result = cli("create-company", "Other", "--slug", "acme", "--erp", "sage300cre")
    assert result.exit_code != 0
    assert 'A company with the slug "acme" already exists.' in result.output
    assert "Traceback" not in result.output
    assert count(Company) == 1


def test_create_company_refuses_an_unknown_erp(cli):
    result = cli("create-company", "Other", "--slug", "other", "--erp", "quickbooks")
    assert result.exit_code != 0 and "quickbooks" in result.output
    assert count(Company) == 0


def test_create_user_asks_for_the_password_twice(cli, acme):
    result = cli("create-user", "Owner@Acme.test", "--name", "Owner", "--company", "acme", "--admin",
                 input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    assert "Password: \nRepeat for confirmation: \n" in result.output
    assert "Created user owner@acme.test." in result.output
    user = db.session.scalar(select(User).where(User.email == "owner@acme.test"))
    assert user.company_id == acme.id and user.company_admin_level == Level.ADMIN
    assert password_matches(user.password_hash, "a-long-password")


def test_create_user_with_mismatched_passwords_asks_again(cli, acme):
    result = cli("create-user", "owner@acme.test", "--name", "Owner", "--company", "acme",
                 input="a-long-password\nanother-password\na-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output.lower() or "don't match" in result.output.lower()
    assert count(User) == 1


def test_create_user_with_a_too_short_password_is_a_clear_error(cli, acme):
    result = cli("create-user", "owner@acme.test", "--name", "Owner", "--company", "acme",
                 input="short\nshort\n")
    assert result.exit_code != 0
    assert "The password must have at least 8 characters." in result.output
    assert count(User) == 0


def test_create_user_with_a_taken_email_is_a_clear_error(cli, acme):
    first = cli("create-user", "owner@acme.test", "--name", "Owner", "--company", "acme",
                input="a-long-password\na-long-password\n")
    assert first.exit_code == 0, first.output
    again = cli("create-user", "OWNER@acme.test", "--name", "Twin", "--company", "acme",
                input="a-long-password\na-long-password\n")
    assert again.exit_code != 0
    assert 'A user with the e-mail "owner@acme.test" already exists.' in again.output
    assert count(User) == 1


def test_create_user_in_an_unknown_company_is_a_clear_error(cli):
    result = cli("create-user", "owner@acme.test", "--name", "Owner", "--company", "nope",
                 input="a-long-password\na-long-password\n")
    assert result.exit_code != 0
    assert 'No company with the slug "nope".' in result.output


def test_seed_demo_if_empty_loads_once_and_the_second_run_changes_nothing(cli):
    first = cli("seed-demo", "--if-empty")
    assert first.exit_code == 0, first.output
    assert "admin@ridgeline.test" in first.output and "costcodes-demo" in first.output
    companies, users, events = count(Company), count(User), count(AuditEvent)
    assert companies == 2 and users == 10

    second = cli("seed-demo", "--if-empty")
    assert second.exit_code == 0, second.output
    assert "already has data" in second.output
    assert (count(Company), count(User), count(AuditEvent)) == (companies, users, events)
