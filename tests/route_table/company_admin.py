from tests.route_table import Route, every

# Company Admin: Read Only and above see every screen; only Admin changes anything. Of the demo
# roles only the admin has a Company Admin level. Empty posts change nothing: the one-button
# switches need to be told which way to switch, so they go back with a message (302).
ROUTES = {
    "company_admin.directory": Route("GET", every(403, admin=200)),
    "company_admin.new_user": Route("GET", every(403, admin=200)),
    # An empty Add user form is shown again with what is missing.
    "company_admin.add_user": Route("POST", every(403, admin=422)),
    "company_admin.user": Route("GET", every(403, admin=200)),
    "company_admin.set_tool_levels": Route("POST", every(403, admin=302)),
    "company_admin.set_project_levels": Route("POST", every(403, admin=302)),
    "company_admin.set_can_push_to_accounting": Route("POST", every(403, admin=302)),
    "company_admin.set_user_active": Route("POST", every(403, admin=302)),
    # Resets the viewer's password: the temporary one is shown on the answer itself.
    "company_admin.reset_password": Route("POST", every(403, admin=200)),
    "company_admin.standard_cost_codes": Route("GET", every(403, admin=200)),
    "company_admin.set_standard_cost_code_archived": Route("POST", every(403, admin=302)),
    "company_admin.erp_settings": Route("GET", every(403, admin=200)),
    # An empty save names the missing connector and goes back; Test connection reports and goes back.
    "company_admin.save_erp_settings": Route("POST", every(403, admin=302)),
    "company_admin.test_erp_connection": Route("POST", every(403, admin=302)),
    # Ridgeline keeps Sage 100 Contractor: no mask to set, and an empty file type is refused.
    "company_admin.set_cost_code_mask": Route("POST", every(403, admin=302)),
    "company_admin.set_sage100_file_type": Route("POST", every(403, admin=302)),
    "company_admin.audit_log": Route("GET", every(403, admin=200)),
    "company_admin.audit_log_csv": Route("GET", every(403, admin=200)),
    # Portal status: Admin on Company Admin only (issue 19).
    "company_admin.portal_status": Route("GET", every(403, admin=200)),
    # Undelivered Mail (issue 17): read-only, for Read Only and above.
    "company_admin.undelivered_mail_list": Route("GET", every(403, admin=200)),
    # An empty form names no time zone: refused, back to the page (302).
    "company_admin.change_time_zone": Route("POST", every(403, admin=302)),
}
