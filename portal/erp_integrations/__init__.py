from flask import Blueprint

bp = Blueprint("erp_integrations", __name__)

from portal.erp_integrations import commitments, differences, live_routes, routes, sync_routes  # noqa: E402,F401
