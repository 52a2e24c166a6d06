from flask import Blueprint

bp = Blueprint("project_admin", __name__)

from portal.project_admin import cost_code_updates, routes  # noqa: E402,F401
