from tests.route_table import Route, every

# Update and Reject need Standard or Admin on ERP Integrations and Can Push to Accounting
# (admin, approver). Update is a one-button form: with only its CSRF token it approves (and,
# without htmx, returns to the list); Reject's empty form gets 422 (the reason is required).
APPROVERS_ONLY = {"accountant": 403, "viewer": 403, "pm": 403}

ROUTES = {
    "erp_integrations.jobs": Route("GET", every(200, pm=403)),
    # What an open Jobs tab asks every few seconds: without its tag, the counts and the table.
    "erp_integrations.jobs_live": Route("GET", every(200, pm=403)),
    "erp_integrations.requested_updates": Route("GET", every(200, pm=403)),
    "erp_integrations.approve_request": Route("POST", every(302, **APPROVERS_ONLY)),
    # Update with several rows ticked: with only its CSRF token nothing is ticked, which is
    # said on the list it returns to.
    "erp_integrations.approve_several_requests": Route("POST", every(302, **APPROVERS_ONLY)),
    "erp_integrations.reject_dialog": Route("GET", every(200, **APPROVERS_ONLY)),
    "erp_integrations.reject": Route("POST", every(422, **APPROVERS_ONLY)),
    "erp_integrations.commitments": Route("GET", every(200, pm=403)),
    # Export needs Standard or Admin on ERP Integrations; an empty form names no commitment.
    "erp_integrations.export_commitment": Route("POST", every(400, viewer=403, pm=403)),
}
