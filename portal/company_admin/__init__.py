from flask import Blueprint

bp = Blueprint("company_admin", __name__)

from portal.company_admin import routes  # noqa: E402,F401

# isort: split
from portal.company_admin import erp_settings, refresh_all  # noqa: E402,F401

# isort: split
from portal.company_admin import portal_status  # noqa: E402,F401

# isort: split
from portal.company_admin import undelivered_mail  # noqa: E402,F401
