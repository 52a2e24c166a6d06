"""/healthz: the portal's health for a monitoring tool (no log-in, nothing confidential)."""
from flask import Blueprint

bp = Blueprint("health", __name__)

from portal.health import routes  # noqa: E402,F401
