"""Routes of the Differences with ERP tab (erp_integrations/differences.py)."""
from tests.route_table import Route, every

ROUTES = {
    # The whole list needs ERP Integrations (the pm has none; one project's list is open to its
    # Admin tool's users, tested in tests/differences).
    "erp_integrations.differences": Route("GET", every(200, pm=403)),
    "erp_integrations.differences_csv": Route("GET", every(200, pm=403)),
    # Compare now: ERP Integrations Admin; the list comes back with the outcome (a page: 302).
    "erp_integrations.compare_differences": Route("POST", every(403, admin=302)),
    # Project Admin (the admin and the pm); a description difference is neither sent nor added:
    # the refusal is flashed on the list (a page: 302; htmx gets 409).
    "erp_integrations.send_difference": Route("POST", every(403, admin=302, pm=302)),
    "erp_integrations.add_difference": Route("POST", every(403, admin=302, pm=302)),
}
