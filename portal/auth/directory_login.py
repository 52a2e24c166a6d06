"""The log-in page's use of directory sign-in (issue 17), kept apart from the page's own code.

The settings are read and checked once, when the app is built, so a wrong setting stops the
portal from starting with a message naming it instead of failing each log-in.
"""
from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.orm import Session

from portal.models import User
from portal.services.directory_signin import (
    DirectorySettings,
    DirectorySignIn,
    directory_settings,
    sign_in_with_directory,
)

EXTENSION = "directory_sign_in"


def init_directory_sign_in(app: Flask) -> None:
    app.extensions[EXTENSION] = directory_settings(app.config)


def configured_directory() -> DirectorySettings | None:
    return current_app.extensions.get(EXTENSION)


def try_directory(
    session: Session, local_user: User | None, name: str, password: str
) -> DirectorySignIn | None:
    """Sign in with the directory when it is configured and `name` is not a local portal
    account with a password (local accounts never depend on the directory being up)."""
    settings = configured_directory()
    if settings is None or (local_user is not None and local_user.password_hash):
        return None
    return sign_in_with_directory(session, settings, name, password)
