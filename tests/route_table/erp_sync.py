"""Routes of the Sync tab and the Ready to Import / Ready to Export actions (erp_integrations)."""
from tests.route_table import Route, every

ROUTES = {
    "erp_integrations.sync": Route("GET", every(200, pm=403)),
    # No run is going in the demo data: the poll answers 286 (htmx stops polling).
    "erp_integrations.sync_runs": Route("GET", every(286, pm=403)),
    # Admin only; an empty form changes nothing.
    "erp_integrations.change_sync_schedule": Route("POST", every(403, admin=400)),
    "erp_integrations.sync_now": Route("POST", every(403, admin=400)),
    # ERP Integrations Standard or Admin.
    "erp_integrations.add_erp_job": Route("POST", every(400, viewer=403, pm=403)),
    "erp_integrations.hide_erp_job": Route("POST", every(400, viewer=403, pm=403)),
    "erp_integrations.accept_export": Route("POST", every(400, viewer=403, pm=403)),
    "erp_integrations.reject_export_form": Route("GET", every(200, viewer=403, pm=403)),
    "erp_integrations.reject_export": Route("POST", every(422, viewer=403, pm=403)),
    "erp_integrations.link_erp_job_form": Route("GET", every(200, viewer=403, pm=403)),
    "erp_integrations.link_erp_job": Route("POST", every(422, viewer=403, pm=403)),
    # Ready to Import → Link to project: ERP Integrations Standard or Admin; the empty form is
    # shown again (422), asking for the project.
    "erp_integrations.link_project_form": Route("GET", every(200, viewer=403, pm=403)),
    "erp_integrations.link_project": Route("POST", every(422, viewer=403, pm=403)),
    # Failed to Export → Retry and Create ERP job: an empty form names no project (400); the
    # services refuse whoever may neither approve nor Sync Now (the accountant) once it does.
    "erp_integrations.retry_export": Route("POST", every(400, viewer=403, pm=403)),
    "erp_integrations.create_erp_job": Route("POST", every(400, viewer=403, pm=403)),
}
