"""Helpers the tests share: the test databases' settings, finding demo rows, counting audit events,
logging in without the form, and clicking many times at once.

Fixtures live in the conftest files; a test imports what it calls from here, never from a conftest
(pytest loads each conftest itself, and importing one again would define its fixtures twice).
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from flask import g, has_app_context
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, func, select

from portal.auth.session import SESSION_TOKEN
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Commitment,
    Company,
    CostCodeUpdateRequest,
    CostType,
    Project,
    ProjectCostCode,
    StandardCostCode,
    User,
)
from portal.services.login import open_session


class PortalClient(FlaskClient):
    """A test client whose form posts carry a valid CSRF token for its session, as a browser's do."""

    def open(self, *args, **kwargs):
        # Every request of a test runs inside the test's one app context, so Flask-Login's
        # cached user in `g` would leak from one client's request into another's. A real
        # request has its own context: load the user from this client's session each time.
        if has_app_context():
            g.pop("_login_user", None)
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        app = self.application
        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324 (Flask-WTF's own format)
                session["csrf_token"] = raw
        return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)

    def htmx_post(self, url: str, data: dict | None = None, **kwargs):
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf_token(), **kwargs.pop("headers", {})}
        return self.post(url, data=data or {}, headers=headers, **kwargs)

    def htmx_get(self, url: str, **kwargs):
        return self.get(url, headers={"HX-Request": "true", **kwargs.pop("headers", {})}, **kwargs)


# --- The test databases -----------------------------------------------------------------------------

BACKEND = os.environ.get("PORTAL_TEST_DB", "sqlite")
POSTGRES_SERVER = os.environ.get("PORTAL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")


def postgres_admin():
    return create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")


def side_paths(base: Path) -> dict[str, str]:
    """The settings of what a portal keeps beside its database (the ERP, the Sage 100 folders)."""
    return {
        "ERP_DATABASE_URL": f"sqlite:///{base / 'erp.sqlite'}",
        "SAGE100_INBOX_DIR": str(base / "sage100" / "inbox"),
        "SAGE100_OUTBOX_DIR": str(base / "sage100" / "outbox"),
    }


# --- Demo rows ----------------------------------------------------------------------------------------

def user_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


def company_by_slug(slug: str) -> Company:
    return db.session.scalar(select(Company).where(Company.slug == slug))


def first_project(slug: str = "ridgeline") -> Project:
    company = company_by_slug(slug)
    return db.session.scalar(
        select(Project).where(Project.company_id == company.id).order_by(Project.number)
    )


def waiting_request(slug: str = "ridgeline") -> CostCodeUpdateRequest:
    """The company's first cost code update request that waits for an approver."""
    return db.session.scalar(
        select(CostCodeUpdateRequest)
        .join(CostCodeUpdateRequest.project)
        .where(
            CostCodeUpdateRequest.company_id == company_by_slug(slug).id,
            CostCodeUpdateRequest.status == "requested",
        )
        .order_by(Project.number)
    )


def commitment_of(project_id: int, number: str = "SC-001") -> Commitment:
    return db.session.scalar(
        select(Commitment).where(Commitment.project_id == project_id, Commitment.number == number)
    )


def standard(code: str, slug: str = "ridgeline") -> StandardCostCode:
    company = company_by_slug(slug)
    return db.session.scalar(
        select(StandardCostCode).where(
            StandardCostCode.company_id == company.id, StandardCostCode.code == code
        )
    )


def cost_type(code: str, slug: str = "ridgeline") -> CostType:
    company = company_by_slug(slug)
    return db.session.scalar(
        select(CostType).where(CostType.company_id == company.id, CostType.code == code)
    )


def project_code(project: Project, code: str) -> ProjectCostCode | None:
    return db.session.scalar(
        select(ProjectCostCode).where(
            ProjectCostCode.project_id == project.id, ProjectCostCode.code == code
        )
    )


def states(project: Project, code: str) -> dict[str, str]:
    """The ERP state of each cost type of a project cost code, as stored now."""
    db.session.expire_all()
    return {
        assignment.cost_type.code: assignment.erp_state
        for assignment in project_code(project, code).assignments
    }


def window_url(request: CostCodeUpdateRequest) -> str:
    """The Requested Updates window of an update request."""
    return f"/erp-integrations/requests/{request.id}/requested-updates"


# --- The audit log ------------------------------------------------------------------------------------

def audit_count(action: str) -> int:
    """How many audit events of this action there are, in every company."""
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def audit_events(action: str, about: User | None = None) -> list[AuditEvent]:
    """The audit events of this action, oldest first; with `about`, only those about that user."""
    db.session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if about is not None:
        query = query.where(AuditEvent.object_id == str(about.id))
    return list(db.session.scalars(query))


# --- Users and clicks ---------------------------------------------------------------------------------

class AuthActions:
    def __init__(self, client: FlaskClient):
        self._client = client

    def login(self, email: str, password: str = DEMO_PASSWORD, next_url: str = ""):
        """The real login form (slow: a full scrypt check). Use login_as elsewhere."""
        return self._client.post_form("/login", {"email": email, "password": password, "next": next_url})

    def login_as(self, role_or_email: str, company: str = "ridgeline.test", token: str | None = None) -> User:
        """Start a session for a demo user as the login form would, without the slow hash check.

        `token`: a server-side session opened already (for an app that cannot write one)."""
        email = role_or_email if "@" in role_or_email else f"{role_or_email}@{company}"
        user = user_by_email(email)
        token = token or open_session(db.session, user_id=user.id)
        with self._client.session_transaction() as session:
            session.clear()
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            session["login_at"] = time.time()
            session[SESSION_TOKEN] = token
        return user

    def logout(self):
        return self._client.post_form("/logout")


def run_together(targets: list[Callable[[], object]], timeout: float = 60) -> None:
    """Run each target in a thread of its own, all started before any is waited for, as
    several people clicking at the same moment would."""
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)


# --- Migrations -------------------------------------------------------------------------------------


def migration_revisions() -> list[str]:
    """Every migration's revision id, oldest first (the last one is this version's schema)."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(__file__).resolve().parents[1] / "migrations"))
    newest_first = ScriptDirectory.from_config(config).walk_revisions()
    return [script.revision for script in reversed(list(newest_first))]
