from tests.route_table import Route, every

ROUTES = {
    "project_admin.projects": Route("GET", every(200)),
    # Company-wide tool users see every project; the pm has Admin on each Ridgeline project.
    "project_admin.project_home": Route("GET", every(200)),
    "project_admin.admin": Route("GET", every(403, admin=200, pm=200)),
    "project_admin.work_breakdown_structure": Route("GET", every(403, admin=200, pm=200)),
    "project_admin.cost_codes": Route("GET", every(403, admin=200, pm=200)),
    # Only Admin on the project's Admin tool adds codes and sends them; an empty form is refused
    # with the form shown again (422) or, for Send to ERP with nothing new, a message (302).
    "project_admin.cost_codes_from_company": Route("GET", every(403, admin=200, pm=200)),
    "project_admin.add_cost_codes_from_company": Route("POST", every(403, admin=422, pm=422)),
    # Paging and searching the list with its selection: nothing is stored, an empty form is page 1.
    "project_admin.browse_cost_codes_from_company": Route("POST", every(403, admin=200, pm=200)),
    "project_admin.send_to_erp": Route("POST", every(403, admin=302, pm=302)),
    "project_admin.assign_cost_type": Route("POST", every(403, admin=422, pm=422)),
    # Remove / Make inactive on a row: an empty form names no cost code.
    "project_admin.remove_cost_code": Route("POST", every(403, admin=422, pm=422)),
    "project_admin.set_cost_code_active": Route("POST", every(403, admin=422, pm=422)),
}
