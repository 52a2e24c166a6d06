from __future__ import annotations

from flask import current_app, jsonify

from portal.config import PROJECT_ROOT
from portal.extensions import db, limiter
from portal.health import bp
from portal.services.portal_status import portal_health


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """200 when every check passes, 503 with the reasons otherwise."""
    report = portal_health(
        db.session,
        worker_expected=not current_app.config["HUEY_IMMEDIATE"],
        migrations_dir=str(PROJECT_ROOT / "migrations"),
    )
    response = jsonify(report)
    response.status_code = 200 if report["status"] == "ok" else 503
    return response
