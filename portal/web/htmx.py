"""htmx answers: is this an htmx request, the page or its partial, and stop-polling."""
from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request

from portal.web.layout import page_time_zone, render_page

# A poll answered with this status makes htmx stop polling (htmx's own convention).
STOP_POLLING = 286


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render_page_or_partial(page_template: str, partial_template: str, **context: Any) -> str:
    """One template pair per screen: the partial for htmx, the page (which includes it) otherwise."""
    if is_htmx():
        return render_template(partial_template, time_zone=page_time_zone(), **context)
    return render_page(page_template, **context)


def poll_answer(body: str, *, done: bool, trigger: str | None = None) -> Response | str:
    """A poll's answer: while the work runs, the body; when done, the body with STOP_POLLING
    (and an optional HX-Trigger event the page listens for)."""
    if not done:
        return body
    response = make_response(body, STOP_POLLING)
    if trigger:
        response.headers["HX-Trigger"] = trigger
    return response
