"""The search boxes' one rule: the typed text is found anywhere in any of the columns, as text.

`%` and `_` are LIKE's wildcards and `\\` its escape, so each is escaped: searching `_` finds the
codes with an underscore, not every code. A search holding a control character matches nothing
(PostgreSQL refuses a NUL byte in a query, and no stored name has one).
"""
from __future__ import annotations

import re

from sqlalchemy import ColumnElement, false, or_

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def like_pattern(text: str) -> str:
    """`text` as a LIKE pattern that matches it literally anywhere (escape character `\\`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_search(text: str, *columns) -> ColumnElement[bool]:
    """Any of `columns` contains `text`, ignoring case."""
    if _CONTROL.search(text):
        return false()
    pattern = like_pattern(text)
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))
