from tests.route_table import Route, every

ROUTES = {
    # Public, for a monitoring tool. The sweep's database is built without migrations (no
    # alembic_version), so the portal is reported unhealthy: 503 for everyone.
    "health.healthz": Route("GET", every(503, anonymous=503)),
}
