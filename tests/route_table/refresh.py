"""Refresh Cost Codes and Refresh all projects (non-htmx requests are sent back to their page)."""
from tests.route_table import Route, every

ROUTES = {
    # Admin on the project's Admin tool (the admin and the pm); an empty form starts the refresh.
    "project_admin.refresh_cost_codes": Route("POST", every(403, admin=302, pm=302)),
    "project_admin.refresh_status": Route("GET", every(403, admin=302, pm=302)),
    "company_admin.refresh_all": Route("GET", every(403, admin=200)),
    "company_admin.start_refresh_all": Route("POST", every(403, admin=302)),
    "company_admin.refresh_all_status": Route(
        "GET", every(403, admin=302), fixed_args={"batch_id": "no-such-batch"}
    ),
}
