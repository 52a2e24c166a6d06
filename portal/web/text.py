"""Names and quotations put into sentences: the possessive of a name, a quoted reason."""
from __future__ import annotations

SENTENCE_ENDS = (".", "!", "?", "…")


def possessive(name: str) -> str:
    """"Ridgeline Builders'" but "Summit Logistics Co.'s": a name ending in s takes only the
    apostrophe (the style of most company writing guides for plural-looking names)."""
    name = str(name)
    return f"{name}'" if name.endswith(("s", "S")) else f"{name}'s"


def quoted_sentence(text: str) -> str:
    """A quotation that ends the sentence: “Wrong cost type.” and not “Wrong cost type.”."""
    text = str(text).strip()
    return f"“{text}”" if text.endswith(SENTENCE_ENDS) else f"“{text}”."
