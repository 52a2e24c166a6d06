"""The user aggregate: company directory entry, company tool levels, project tool levels."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.company import Company
from portal.models.levels import CompanyTool, Level, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped to end every open session of the user (deactivation, password change).
    session_version: Mapped[int] = mapped_column(default=1)
    # Set by an admin's Reset password: the temporary password only opens the Account page.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    erp_integrations_level: Mapped[int] = mapped_column(default=Level.NONE)
    company_admin_level: Mapped[int] = mapped_column(default=Level.NONE)
    can_push_to_accounting: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Directory sign-in (issue 17): the person's name in the company directory, for users who
    # sign in there (their password_hash is empty: the portal never stores that password), and
    # when the directory was last seen to have disabled or removed them.
    directory_name: Mapped[str | None] = mapped_column(String(254), unique=True, index=True)
    directory_disabled_at: Mapped[datetime | None]
    # Account → Notifications: immediate | daily | none (models.mail.APPROVAL_MAIL_CHOICES)
    approval_mail: Mapped[str] = mapped_column(String(10), default="immediate", server_default="immediate")

    company: Mapped[Company] = relationship()
    project_permissions: Mapped[list[ProjectPermission]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def tool_level(self, tool: CompanyTool | str) -> Level:
        tool = CompanyTool(tool)
        if tool is CompanyTool.ERP_INTEGRATIONS:
            return Level(self.erp_integrations_level)
        return Level(self.company_admin_level)

    def project_level(self, project_id: int) -> Level:
        for permission in self.project_permissions:
            if permission.project_id == project_id:
                return Level(permission.admin_level)
        return Level.NONE

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class LoginSession(db.Model):
    """One log-in in one browser. The session cookie names it by a random token (only the
    token's SHA-256 is stored); the session lasts while the row exists, so deleting it at
    log-out ends the session on the server, and a copied cookie opens nothing afterwards."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ProjectPermission(db.Model):
    """A user's level on one project's Admin tool."""

    __tablename__ = "project_permissions"
    __table_args__ = (UniqueConstraint("user_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    admin_level: Mapped[int] = mapped_column(default=Level.NONE)

    user: Mapped[User] = relationship(back_populates="project_permissions")
