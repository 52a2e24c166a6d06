"""The company ERP Integrations tool (page title "ERP Integration"): Jobs, Commitments, Sync."""
from __future__ import annotations

from flask import render_template

from portal.auth.permissions import company_tool_required
from portal.erp_integrations import bp
from portal.models import CompanyTool, Level

JOB_FILTERS = [
    ("ready_to_import", "Ready to Import"),
    ("ready_to_export", "Ready to Export"),
    ("ready_to_update", "Ready to Update"),
    ("failed_to_export", "Failed to Export"),
    ("synced", "Synced"),
    ("archived", "Archived"),
]


@bp.route("/jobs")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
def jobs():
    return render_template("erp_integrations/jobs.html", filters=JOB_FILTERS)
