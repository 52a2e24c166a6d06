from tests.route_table import Route, every

ROUTES = {
    "company_admin.directory": Route("GET", every(403, admin=200)),
}
