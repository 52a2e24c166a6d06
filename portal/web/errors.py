"""Errors as the user sees them: one answer per kind of error, for htmx and for full pages.

The one mapping of a service's refusal (ServiceError) to an answer:

| error                  | htmx request                     | full page                          |
|------------------------|----------------------------------|------------------------------------|
| NotFound               | 404, the message in the flash area | the 404 page with the message    |
| PermissionDenied       | 403, the message in the flash area | the 403 page with the message    |
| any other ServiceError | 409, the message in the flash area | the message flashed, back (302)  |

A form that comes back tampered or stale (hidden fields that do not match) is a 400 with
INCOMPLETE_FORM; a form shown again for the user to correct is the view's own 422.
"""
from __future__ import annotations

from flask import Flask, flash, redirect, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.extensions import db
from portal.logs import log_unexpected_error
from portal.services import NotFound, PermissionDenied, ServiceError
from portal.web.htmx import is_htmx
from portal.web.layout import page_layout, render_page

ERROR_MESSAGES = {
    400: "The request could not be understood. Reload the page and try again.",
    403: "You do not have permission to do that.",
    404: "That page or item does not exist, or it is not part of your company.",
    405: "That action is not allowed here.",
    409: "That can no longer be done: the item changed. Reload the page and try again.",
    413: "The upload is too large.",
    429: "Too many attempts. Wait a few minutes and try again.",
    500: "Something went wrong on the server. Nothing was changed; try again in a moment.",
}

INCOMPLETE_FORM = "The form was incomplete or changed on the way: reload the page and try again."


def error_response(code: int, message: str | None = None, reference: str | None = None):
    message = message or ERROR_MESSAGES.get(code, "The request failed.")
    if is_htmx():
        return render_template("errors/_error.html", code=code, message=message, reference=reference), code
    # After a server error the database may be what failed: the page then skips the badge count.
    layout = page_layout(count_waiting=code < 500)
    return render_page(
        "errors/error.html", layout=layout, code=code, message=message, reference=reference
    ), code


def refusal_response(error: ServiceError, back: str):
    """A service's refusal, answered by its kind (the table above); `back` is the page a full
    page request returns to, where the flashed message is shown."""
    if isinstance(error, NotFound):
        return error_response(404, str(error))
    if isinstance(error, PermissionDenied):
        return error_response(403, str(error))
    if is_htmx():
        return error_response(409, str(error))
    flash(str(error), "error")
    return redirect(back)


def register_error_pages(app: Flask) -> None:
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
        # The stack trace goes to the server log, never to the browser: the page shows the
        # reference number the log has it under.
        reference = log_unexpected_error(error)
        db.session.rollback()
        return error_response(500, reference=reference)
