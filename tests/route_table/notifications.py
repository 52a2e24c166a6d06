from tests.route_table import Route, every

# Account → Notifications (issue 17): every logged-in user sets their own choice. An empty
# form is shown again with what is missing.
ROUTES = {
    "notifications.settings": Route("GET", every(200)),
    "notifications.save_settings": Route("POST", every(400)),
}
