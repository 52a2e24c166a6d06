"""SQLite locking: pages being shown read side by side; anything that writes takes the write lock.

Only SQLite has a database-wide write lock; PostgreSQL locks rows and needs none of this.
"""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import Company, User
from portal.services import transaction
from tests.helpers import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's write lock only")


def _database_path(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


def _another_writer_can_start(app) -> bool:
    other = sqlite3.connect(_database_path(app), timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()


def test_showing_a_page_does_not_hold_the_write_lock(app):
    with app.test_request_context("/erp-integrations/jobs", method="GET"):
        db.session.execute(select(User.id)).all()
        assert _another_writer_can_start(app)
        db.session.rollback()


def test_a_form_post_holds_the_write_lock_from_its_first_read(app):
    with app.test_request_context("/erp-integrations/jobs", method="POST"):
        db.session.execute(select(User.id)).all()
        assert not _another_writer_can_start(app)
        db.session.rollback()


def test_a_write_while_showing_a_page_is_not_refused_after_another_write(app):
    # A page's read began before someone else's commit; a deferred transaction could not
    # take the write lock any more ("database is locked" at once), a service transaction can.
    with app.test_request_context("/erp-integrations/jobs", method="GET"):
        company = db.session.scalars(select(Company).order_by(Company.id)).first()
        other = sqlite3.connect(_database_path(app), isolation_level=None)
        other.execute(
            "UPDATE companies SET name = name || ' (renamed elsewhere)' WHERE id = ?", (company.id,)
        )
        other.close()
        with transaction(db.session):
            db.session.execute(update(User).where(User.company_id == company.id).values(name=User.name + "!"))
        assert "renamed elsewhere" in company.name  # what the page shows after it is read afresh
