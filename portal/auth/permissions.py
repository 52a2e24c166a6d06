"""Permission checks for views. The server enforces them whatever the page shows.

- `company_tool_required(tool, level)`: the user's level on a company tool is at least `level`.
- `project_tool_required(level)`: the user's level on the project's Admin tool is at least
  `level`; the view receives the loaded `project` instead of `project_id`. A project of another
  company is a 404, exactly as if it did not exist.

An anonymous user is sent to the login page (HX-Redirect for htmx); a refusal is a 403 page,
or a 403 partial for htmx.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from portal.extensions import db
from portal.models import CompanyTool, Level, Project
from portal.services.project_access import can_see_project


def deny(message: str) -> None:
    error = Forbidden()
    error.portal_message = message  # shown on the 403 page / partial
    raise error


def company_tool_required(tool: CompanyTool, level: Level) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any):
            if current_user.tool_level(tool) < level:
                deny(f"You need {level.label} on the {tool.label} tool.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def company_project_or_404(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None or project.company_id != current_user.company_id:
        abort(404)
    return project


def project_tool_required(level: Level) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, project_id: int, **kwargs: Any):
            project = company_project_or_404(project_id)
            if level > Level.NONE and current_user.project_level(project.id) < level:
                deny(f"You need {level.label} on this project's Admin tool.")
            if level == Level.NONE and not can_see_project(current_user, project):
                deny("You do not have access to this project.")
            return view(*args, project=project, **kwargs)

        return wrapped

    return decorator
