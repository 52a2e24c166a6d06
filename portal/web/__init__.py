"""What every blueprint shares: the layout, htmx answers, error answers, paged tables.

- `layout`: render_page() gives every full page its header (tools, company, waiting badge).
- `htmx`: is_htmx(), render_page_or_partial(), STOP_POLLING and poll_answer().
- `errors`: error_response(), refusal_response() (the one mapping of ServiceError to answers),
  INCOMPLETE_FORM and the error pages.
- `tables`: search_text(), paginate(), requested_page(), url_for_rows().
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from jinja2 import pass_context

from portal.models import Level
from portal.times import local_time
from portal.web.errors import register_error_pages
from portal.web.htmx import is_htmx
from portal.web.input import init_input_checks
from portal.web.tables import url_for_rows
from portal.web.text import possessive, quoted_sentence

# --- Security headers (every response) -------------------------------------------------------------

# Browser features the portal never uses, turned off for it and anything it might embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope",
        "magnetometer", "microphone", "midi", "payment", "publickey-credentials-get",
        "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    )
)
HSTS_MAX_AGE = 365 * 24 * 3600  # a year, as browsers' preload rules ask


def content_security_policy(config: Mapping[str, Any]) -> str:
    """Only the portal's own files; with HTMX_FROM_CDN, also exactly the CDN's origin for the
    htmx script, pinned by the integrity hash the page's <script> tag carries."""
    script_src = "'self'"
    if config.get("HTMX_FROM_CDN"):
        cdn = urlsplit(config["HTMX_CDN_URL"])
        script_src += f" {cdn.scheme}://{cdn.netloc} '{config['HTMX_CDN_INTEGRITY']}'"
    return (
        f"default-src 'self'; script-src {script_src}; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


def security_headers(response):
    config = current_app.config
    response.headers["Content-Security-Policy"] = content_security_policy(config)
    response.headers["Permissions-Policy"] = PERMISSIONS_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if config["SESSION_COOKIE_SECURE"]:
        # The portal is served over HTTPS only (its cookie says so): browsers must not try HTTP.
        response.headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE}"
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_web(app: Flask) -> None:
    app.after_request(security_headers)
    # Template globals that load nothing: an enum, a request-header test and a URL builder
    # (and, from web.input, the list's own query keys for its links).
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
    init_input_checks(app)
