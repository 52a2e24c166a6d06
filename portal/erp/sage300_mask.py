"""Sage 300 CRE cost codes: the company's cost code mask and the limits every mask shares.

Sources are cited beside each fact; see also portal/erp/formats.py, which applies them.
"""

import re
from dataclasses import dataclass

from portal.erp.format_text import shown

# Sage 300 CRE cost codes: "the 12-character limit allowed by Job Cost" (Sage Estimating 22.1
# help, "Setting up in Sage 300 Construction and Real Estate Job Cost",
# http://help-sageestimating.na.sage.com/en-us/22_1/Content/300CRE_Integration/setting_up_gold.htm);
# Cost_Code varchar(12) in the EF scaffold. That the 12 include the punctuation is an inference
# from the column holding the formatted code (Procore's example 12-3456-789).
SAGE300_MAX_CODE_LENGTH = 12
# At most 4 sections, each with its own length and the punctuation after sections 1-3: public
# ODBC client code reading TS_CTL_RECORD_3 (FLDCODE 18 = JC cost code; Section, CSLEN, CNPUNCT)
# for sections 1..4. No Sage help page stating it was found.
SAGE300_MAX_SECTIONS = 4
# The punctuation a mask may use. Published examples only ever show "-" (Procore FAQ
# "12-3456-789", Builder MT "###-##-####"); "/" and "." come from DESIGN.md, not from a source.
SAGE300_DELIMITERS = "/-."
SAGE300_SPLIT = re.compile(r"[/.\-]")


class MaskError(ValueError):
    """A Sage 300 CRE cost code mask that Sage 300 CRE could not have."""

    def __init__(self, mask: str, rule: str):
        self.mask = mask
        self.rule = rule
        super().__init__(f'The cost code mask "{shown(mask)}" is not valid; {rule}.')


# One mask character per character of a section, as Company Admin shows it (99-999).
MASK_CHARACTER = "9"


@dataclass(frozen=True)
class CostCodeMask:
    """A Sage 300 CRE company's cost code format: each section's length and the punctuation
    after each section but the last (TS_CTL_RECORD_3's CSLEN and CNPUNCT, see above)."""

    lengths: tuple[int, ...]
    punctuation: tuple[str, ...]

    def __post_init__(self) -> None:
        # Checked in parse_mask; a mask built another way must still be one Sage can hold.
        assert len(self.punctuation) == len(self.lengths) - 1

    def __str__(self) -> str:
        parts = [MASK_CHARACTER * self.lengths[0]]
        for punct, length in zip(self.punctuation, self.lengths[1:], strict=True):
            parts.append(punct + MASK_CHARACTER * length)
        return "".join(parts)

    @property
    def pattern(self) -> re.Pattern[str]:
        return _mask_pattern(self.lengths, self.punctuation)

    def misfit(self, code: str) -> str | None:
        """Why the code does not fit the mask, in words; None when it fits."""
        if self.pattern.fullmatch(code):
            return None
        stray = next(
            (ch for ch in code if not (ch.isascii() and ch.isalnum()) and ch not in SAGE300_DELIMITERS),
            None,
        )
        if stray is not None:
            what = "a space" if stray.isspace() else f'"{shown(stray)}"'
            return f"it contains {what}; sections hold only the letters A-Z and digits"
        sections = SAGE300_SPLIT.split(code)
        separators = SAGE300_SPLIT.findall(code)
        if len(sections) != len(self.lengths):
            return (
                f"it has {_count(len(sections), 'section')}, the mask "
                f"{_count(len(self.lengths), 'section')}"
            )
        for number, (found, wanted) in enumerate(zip(separators, self.punctuation, strict=True), start=1):
            if found != wanted:
                return (
                    f'it separates sections {number} and {number + 1} with "{found}", '
                    f'the mask with "{wanted}"'
                )
        for number, (section, length) in enumerate(zip(sections, self.lengths, strict=True), start=1):
            if len(section) != length:
                return (
                    f"its section {number} has {_count(len(section), 'character')} where the "
                    f"mask has {length}"
                )
        return "it does not match the mask"  # not reached: every difference is named above


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


_MASK_PATTERNS: dict[tuple[tuple[int, ...], tuple[str, ...]], re.Pattern[str]] = {}


def _mask_pattern(lengths: tuple[int, ...], punctuation: tuple[str, ...]) -> re.Pattern[str]:
    # Cached: a refresh or an export asks it of thousands of codes.
    key = (lengths, punctuation)
    pattern = _MASK_PATTERNS.get(key)
    if pattern is None:
        parts = [f"[A-Za-z0-9]{{{lengths[0]}}}"]
        for punct, length in zip(punctuation, lengths[1:], strict=True):
            parts.append(f"{re.escape(punct)}[A-Za-z0-9]{{{length}}}")
        pattern = _MASK_PATTERNS[key] = re.compile("".join(parts))
    return pattern


def parse_mask(text: str | None) -> CostCodeMask | None:
    """The mask written as Company Admin shows it ("99-999"), or None for no mask; MaskError
    names what Sage 300 CRE would not allow."""
    if text is None or not text.strip():
        return None
    cleaned = text.strip()
    runs = re.findall(rf"{MASK_CHARACTER}+|[^{MASK_CHARACTER}]+", cleaned)
    sections = runs[0::2]
    separators = runs[1::2]
    if not runs[0].startswith(MASK_CHARACTER) or len(runs) % 2 == 0:
        raise MaskError(
            text,
            f"write each section as one {MASK_CHARACTER} per character, with punctuation between "
            f"sections (for example 99-999)",
        )
    bad = next((sep for sep in separators if len(sep) != 1 or sep not in SAGE300_DELIMITERS), None)
    if bad is not None:
        raise MaskError(
            text,
            f'"{shown(bad)}" cannot separate sections; use one of "/", "-" or "." between them',
        )
    if len(sections) > SAGE300_MAX_SECTIONS:
        raise MaskError(
            text, f"it has {len(sections)} sections; Sage 300 CRE allows at most {SAGE300_MAX_SECTIONS}"
        )
    if len(cleaned) > SAGE300_MAX_CODE_LENGTH:
        raise MaskError(
            text,
            f"its codes would be {len(cleaned)} characters long; Sage 300 CRE allows at most "
            f"{SAGE300_MAX_CODE_LENGTH}",
        )
    return CostCodeMask(tuple(len(section) for section in sections), tuple(separators))
