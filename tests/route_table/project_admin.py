from tests.route_table import Route, every

ROUTES = {
    "project_admin.projects": Route("GET", every(200)),
    # Company-wide tool users see every project; the pm has Admin on each Ridgeline project.
    "project_admin.project_home": Route("GET", every(200)),
    "project_admin.admin": Route("GET", every(403, admin=200, pm=200)),
    "project_admin.work_breakdown_structure": Route("GET", every(403, admin=200, pm=200)),
    "project_admin.cost_codes": Route("GET", every(403, admin=200, pm=200)),
}
