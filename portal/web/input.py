"""Input from the address bar and forms that no one should trust: bounds, control characters,
return addresses and the query keys a link may carry.

Every rule here answers a kind of hostile or careless input with a plain 4xx and a message that
names the field, before any view or service sees it, so nothing is half-saved behind an error.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

# Ids are 64-bit signed integers in SQLite and PostgreSQL: a larger number is no row's id.
MAX_ROW_ID = 2**63 - 1

# Control characters (C0, DEL and C1). Tabs and line breaks are ordinary in a reason typed into
# a text area.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# The query keys a list's links and search box carry from one page to the next. Anything else
# in the address (`endpoint`, `_external`, `_method`…) is dropped instead of reaching url_for().
LIST_QUERY_KEYS = ("q", "filter", "division", "from", "to", "user", "action", "project", "page")

# Search boxes: a control character in them matches nothing rather than being refused.
_SEARCH_KEYS = frozenset({"q", "list_q"})
# Return addresses came from a link, not from the user's typing: a bad one is replaced by the
# page's own default (safe_return_path), so the user can still log in or save.
_RETURN_ADDRESS_FIELDS = frozenset({"next", "back"})


class RowIdConverter(IntegerConverter):
    """`<int:…>` in a URL: a number larger than any row's id is read as 0, which no row has
    (ids start at 1), so the view answers 404 as for any other unknown id.

    Refusing it in the converter instead would make werkzeug answer 405 where another rule
    has the same path for another method.
    """

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= MAX_ROW_ID else 0


def has_control_character(value: str, allow_line_breaks: bool = False) -> bool:
    return bool((_CONTROL if allow_line_breaks else _ANY_CONTROL).search(value))


def _field_label(name: str) -> str:
    return name.replace("_", " ").replace("-", " ")[:40]


def _bad_input(message: str) -> BadRequest:
    error = BadRequest(message)
    error.portal_message = message  # shown on the 400 page / partial
    return error


def _refuse_control_characters() -> None:
    for name, value in request.args.items(multi=True):
        if name not in _SEARCH_KEYS | _RETURN_ADDRESS_FIELDS and has_control_character(value):
            raise _bad_input(
                f"The address has a control character in “{_field_label(name)}”. "
                "Remove it and try again."
            )
    if request.method != "POST":
        return
    for name, value in request.form.items(multi=True):
        if name in _RETURN_ADDRESS_FIELDS:
            continue
        if has_control_character(value, allow_line_breaks=True) or has_control_character(name):
            raise _bad_input(
                f"The field “{_field_label(name)}” contains a control character. "
                "Remove it and try again; nothing was saved."
            )


def carried_query_args(exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """The list's own query keys from this request, for its page links and search box."""
    return {
        key: value
        for key, value in request.args.items()
        if key in LIST_QUERY_KEYS and key not in exclude and not has_control_character(value)
    }


def safe_return_path(value: str | None, within: str = "/") -> str | None:
    """`value` if it is a path on this site under `within`, else None.

    A return address (a form's `back`, the log-in's `next`) is checked whole before anything is
    saved: a path and query only (no scheme, no host, no `//` or backslash that a browser would
    read as another host, no fragment), and no control character, which would make the redirect
    itself fail after the change was made.
    """
    if not value or has_control_character(value) or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.fragment or not value.startswith("/") or value.startswith("//"):
        return None
    if not parts.path.startswith(within):
        return None
    return value


def init_input_checks(app: Flask) -> None:
    app.before_request(_refuse_control_characters)
    app.jinja_env.globals["carried_query_args"] = carried_query_args
