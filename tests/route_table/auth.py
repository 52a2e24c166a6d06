from tests.route_table import Route, every

ROUTES = {
    "static": Route("GET", every(200, anonymous=200)),
    "auth.index": Route("GET", every(302)),
    "auth.login": Route("GET", every(302, anonymous=200)),
    # An empty login form (valid CSRF token) is shown again; a logged-in user is sent home.
    "auth.logout": Route("POST", every(302)),
    "auth.account": Route("GET", every(200)),
    # An empty form: the fields are named in the refusal, nothing is changed.
    "auth.change_password": Route("POST", every(422)),
}
