"""What every page shares: security headers, error pages, the header's context, htmx helpers."""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import Select, func, select
from werkzeug.exceptions import HTTPException

from portal.extensions import db
from portal.models import CompanyTool, Level

ERROR_MESSAGES = {
    400: "The request could not be understood. Reload the page and try again.",
    403: "You do not have permission to do that.",
    404: "That page or item does not exist, or it is not part of your company.",
    405: "That action is not allowed here.",
    413: "The upload is too large.",
    429: "Too many attempts. Wait a few minutes and try again.",
    500: "Something went wrong on the server. Nothing was changed; try again in a moment.",
}


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render_page_or_partial(page_template: str, partial_template: str, **context: Any) -> str:
    """One template pair per screen: the partial for htmx, the page (which includes it) otherwise."""
    return render_template(partial_template if is_htmx() else page_template, **context)


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def requested_page(value: str | None = None) -> int:
    try:
        return max(1, int(request.args.get("page", "1") if value is None else value))
    except ValueError:
        return 1


def paginate(
    query: Select,
    per_page: int | None = None,
    scalars: bool = True,
    page: int | None = None,
    total: int | None = None,
    params: dict[str, Any] | None = None,
) -> Page:
    """`page` defaults to the URL's ?page=; a form re-shown after a POST passes its own.

    A caller that has counted the rows already passes `total`, saving the count query;
    `params` are the values of the query's bound parameters.
    """
    per_page = per_page or current_app.config["PAGE_SIZE"]
    page = page or requested_page()
    if total is None:
        total = db.session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery()), params
        )
    result = db.session.execute(query.limit(per_page).offset((page - 1) * per_page), params)
    items = list(result.scalars() if scalars else result)
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


_ROW_ID_MARKER = 918273645546372819


def url_for_rows(endpoint: str, id_argument: str, **values: Any) -> Callable[[int], str]:
    """url_for() for a table's rows, which differ only in one integer id: built once per table.

    Building a URL is most of a row's rendering time; here the id is put into the path of one
    URL built with a marker, so every row's URL is exactly what url_for() would give.
    """
    url = url_for(endpoint, **{id_argument: _ROW_ID_MARKER}, **values)
    path, question_mark, query = url.partition("?")
    before, marker, after = path.partition(str(_ROW_ID_MARKER))
    if not marker:
        raise ValueError(f"{endpoint} has no {id_argument} in its path")
    return lambda row_id: f"{before}{int(row_id)}{after}{question_mark}{query}"


def error_response(code: int, message: str | None = None):
    message = message or ERROR_MESSAGES.get(code, "The request failed.")
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    return render_template(template, code=code, message=message), code


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


def _header_context() -> dict[str, Any]:
    if not current_user.is_authenticated:
        return {}
    tools = []
    if current_user.tool_level(CompanyTool.ERP_INTEGRATIONS) >= Level.READ_ONLY:
        tools.append(("ERP Integrations", "erp_integrations.jobs"))
    if current_user.tool_level(CompanyTool.COMPANY_ADMIN) >= Level.READ_ONLY:
        tools.append(("Company Admin", "company_admin.directory"))
    tools.append(("Projects", "project_admin.projects"))
    return {"header_tools": tools, "company": current_user.company}


def init_web(app: Flask) -> None:
    app.after_request(security_headers)
    app.context_processor(_header_context)
    app.jinja_env.globals["Level"] = Level
    app.jinja_env.globals["is_htmx"] = is_htmx
    app.jinja_env.globals["url_for_rows"] = url_for_rows

    @app.template_filter("when")
    def _when(value):  # noqa: ANN001
        # Times are stored as naive UTC. isoformat() gives the same text as
        # strftime("%Y-%m-%d %H:%M") in a third of the time, and tables format one per row.
        return f"{value.isoformat(' ', 'minutes')} UTC" if value else ""

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return error_response(
            400, "The form expired or was not sent from this portal. Reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        message = getattr(error, "portal_message", None)
        if error.code == 429:  # the rate limiter's own sentence says which limit was hit
            message = error.description
        return error_response(error.code or 500, message)

    @app.errorhandler(Exception)
    def _unexpected_error(error: Exception):
        # The stack trace goes to the server log, never to the browser.
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_response(500)
