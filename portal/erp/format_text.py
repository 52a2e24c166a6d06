"""How the format rules show what they refuse: text made safe to print and cut short, so a
message naming a hostile or huge input stays readable."""

import unicodedata

# Long or hostile input is cut short in messages so they stay readable.
_SHOWN_LENGTH = 40

# Control, format, surrogate and line/paragraph separator characters never belong in a
# one-line ERP field; a plain space does.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def shown(text: str) -> str:
    """The text as it is safe to show in a message: escaped and cut short."""
    visible = "".join(
        ch if _is_printable(ch) else ch.encode("unicode_escape").decode() for ch in text
    )
    if len(visible) > _SHOWN_LENGTH:
        return visible[: _SHOWN_LENGTH - 1] + "…"
    return visible


def _is_printable(ch: str) -> bool:
    return unicodedata.category(ch) not in _FORBIDDEN_CATEGORIES


def first_unprintable(text: str) -> str | None:
    # str.isprintable() is False for every forbidden category (and for a few allowed ones,
    # such as a no-break space), so when it is True there is nothing to look for: a fast path
    # for the usual code, which matters when a refresh checks 20,000 of them.
    if text.isprintable():
        return None
    return next((ch for ch in text if not _is_printable(ch)), None)
