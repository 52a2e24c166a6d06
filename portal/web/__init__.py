"""What every blueprint shares: the layout, htmx answers, error answers, paged tables.

- `layout`: render_page() gives every full page its header (tools, company, waiting badge).
- `htmx`: is_htmx(), render_page_or_partial(), STOP_POLLING and poll_answer().
- `errors`: error_response(), refusal_response() (the one mapping of ServiceError to answers),
  INCOMPLETE_FORM and the error pages.
- `tables`: search_text(), paginate(), requested_page(), url_for_rows().
"""
from __future__ import annotations

from flask import Flask, request
from jinja2 import pass_context

from portal.models import Level
from portal.times import local_time
from portal.web.errors import register_error_pages
from portal.web.htmx import is_htmx
from portal.web.tables import url_for_rows
from portal.web.text import possessive, quoted_sentence

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def _security_headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_web(app: Flask) -> None:
    app.after_request(_security_headers)
    # Template globals that load nothing: an enum, a request-header test and a URL builder.
    app.jinja_env.globals["Level"] = Level
    app.jinja_env.globals["is_htmx"] = is_htmx
    app.jinja_env.globals["url_for_rows"] = url_for_rows

    @app.template_filter("when")
    @pass_context
    def _when(context, value):  # noqa: ANN001
        # The zone comes with the view's data: `time_zone`, or the full page's layout.
        zone = context.get("time_zone") or getattr(context.get("layout"), "time_zone", None)
        return local_time(value, zone)

    app.jinja_env.filters["possessive"] = possessive
    app.jinja_env.filters["quoted_sentence"] = quoted_sentence
    register_error_pages(app)
