from tests.route_table import Route, every

ROUTES = {
    "erp_integrations.jobs": Route("GET", every(200, pm=403)),
}
