"""Per-ERP format rules for cost codes, cost types and descriptions: the one place they live.

Every check raises a ValueError subclass whose text is a sentence a user can act on: it names
the rejected item and the rule it breaks.

Each limit below cites where it was found (research notes: /work/notes/sage_facts.md). Where the
only source is an integrator or public code rather than Sage's own help, the comment says so.
"""

import re
from collections.abc import Callable

from sqlalchemy import ColumnElement, func

from portal.erp.format_text import first_unprintable, shown

# The Sage 300 CRE mask and its limits live beside it; they are part of these rules, so they are
# offered here too (formats.parse_mask, formats.CostCodeMask, ...).
from portal.erp.sage300_mask import MASK_CHARACTER as MASK_CHARACTER
from portal.erp.sage300_mask import SAGE300_DELIMITERS as SAGE300_DELIMITERS
from portal.erp.sage300_mask import SAGE300_MAX_CODE_LENGTH as SAGE300_MAX_CODE_LENGTH
from portal.erp.sage300_mask import SAGE300_MAX_SECTIONS as SAGE300_MAX_SECTIONS
from portal.erp.sage300_mask import SAGE300_SPLIT, CostCodeMask
from portal.erp.sage300_mask import MaskError as MaskError
from portal.erp.sage300_mask import parse_mask as parse_mask

SAGE100 = "sage100c"
SAGE300 = "sage300cre"

ERP_NAMES = {SAGE100: "Sage 100 Contractor", SAGE300: "Sage 300 CRE"}

DESCRIPTION_LIMITS = {
    # Sage 100 Contractor: cost code name (cstcde.cdenme) String(50). Source: EI Dynamics'
    # 6-5 Cost Codes import template (an integrator, not Sage's help),
    # https://eidynamics.com/Software/ProductInfo/S100CDIS/Sage100CostCodes
    SAGE100: 50,
    # Sage 300 CRE: cost code Description varchar(30) (public EF Core scaffold of
    # JCM_MASTER__STANDARD_COST_CODE), and "Phase description 30" in the Job Cost transfer file
    # (Sage Estimating 23.1 help, "Category record for Sage 300 Construction and Real Estate",
    # https://help-sageestimating.na.sage.com/en-us/23_1/Content/300CRE_Integration/Sage300_category_transaction.htm).
    SAGE300: 30,
}
# Sage 100 Contractor cost code numbers: Numeric(9,3), e.g. 2010.000, i.e. up to 6 digits and 3
# decimals. Source: EI Dynamics' 6-5 template (integrator, above); Sage's own help gives no digit
# count. The leading-digit rule is Sage's (see _sage100_code).
SAGE100_MAX_WHOLE_DIGITS = 6
SAGE100_MAX_DECIMALS = 3
# Sage 300 CRE categories (cost types): Category varchar(3), Description varchar(30), in the
# public EF scaffold of JCM_MASTER__CATEGORY (job categories) and "Job cost category 3" in the
# Job Cost transfer file (Sage Estimating help, above). The standard category's description
# length was not found: taken to be the same 30.
SAGE300_CATEGORY_NAME_LIMIT = 30
# Sage 300 CRE job numbers: Job varchar(10) in the public EF scaffold of JCM_MASTER__JOB (no Sage
# help page found). Other ERPs: the portal's own column width.
SAGE300_JOB_NUMBER_MAX_LENGTH = 10
JOB_NUMBER_MAX_LENGTH = 30

_SAGE100_CODE = re.compile(r"([0-9]+)(?:\.([0-9]*))?")
_SAGE300_SECTION = re.compile(r"[A-Za-z0-9]+")
_SAGE300_CATEGORY = re.compile(r"[A-Za-z0-9]{1,3}")
# The usual valid code in one regular expression each, checked before the rules one by one: a
# refresh validates thousands of codes. Anything these do not match goes through every rule, so
# the rules (and their messages) stay the ones below.
_SAGE100_WELL_FORMED = re.compile(
    rf"([1-9][0-9]{{0,{SAGE100_MAX_WHOLE_DIGITS - 1}}})(?:\.([0-9]{{0,{SAGE100_MAX_DECIMALS}}}))?"
)
_SAGE300_WELL_FORMED = re.compile(
    rf"[A-Za-z0-9]+(?:[/.\-][A-Za-z0-9]+){{1,{SAGE300_MAX_SECTIONS - 1}}}"
)
# A code exactly as validate_cost_code returns it (the form the portal stores): an export of
# thousands of stored lines recognises them in one match each.
_STORED_CODE = {
    SAGE100: re.compile(rf"[1-9][0-9]{{0,{SAGE100_MAX_WHOLE_DIGITS - 1}}}\.[0-9]{{{SAGE100_MAX_DECIMALS}}}"),
    SAGE300: re.compile(rf"(?=.{{1,{SAGE300_MAX_CODE_LENGTH}}}$){_SAGE300_WELL_FORMED.pattern}"),
}
_STORED_COST_TYPE = {SAGE100: re.compile(r"[1-9]"), SAGE300: re.compile(r"[A-Z0-9]{1,3}")}


class CostCodeFormatError(ValueError):
    """A cost code that the company's ERP would not accept."""

    def __init__(self, code: str, problem: str, rule: str):
        self.code = code
        self.rule = rule
        super().__init__(f'Cost code "{shown(code)}" {problem}; {rule}.')


class CostTypeError(ValueError):
    """A cost type (Sage 300 CRE: category) that the company's ERP would not accept."""

    def __init__(self, cost_type: str, rule: str):
        self.cost_type = cost_type
        self.rule = rule
        super().__init__(f'Cost type "{shown(cost_type)}" is not valid; {rule}.')


class DescriptionError(ValueError):
    """A description that does not fit the ERP's description field."""

    def __init__(self, text: str, problem: str, rule: str):
        self.text = text
        self.rule = rule
        super().__init__(f'Description "{shown(text)}" {problem}; {rule}.')


class JobNumberError(ValueError):
    """A job number that cannot be stored in the ERP."""

    def __init__(self, number: str, rule: str):
        self.number = number
        self.rule = rule
        super().__init__(f'Job number "{shown(number)}" is not valid; {rule}.')


def erp_name(erp_system: str) -> str:
    try:
        return ERP_NAMES[erp_system]
    except KeyError:
        known = ", ".join(ERP_NAMES)
        raise ValueError(f"Unknown ERP system {erp_system!r}; expected one of {known}.") from None


def validate_cost_code(erp_system: str, code: str, mask: CostCodeMask | None = None) -> str:
    """Return the code as the ERP stores it, or raise CostCodeFormatError.

    `mask` is the Sage 300 CRE company's cost code mask: a code must fit it exactly. Without
    one (not read from the ERP nor set in Company Admin) only the rules every mask shares apply.
    """
    name = erp_name(erp_system)
    if not isinstance(code, str):
        raise TypeError(f"A cost code must be text, not {type(code).__name__}.")
    if erp_system == SAGE100:
        well_formed = _SAGE100_WELL_FORMED.fullmatch(code)
        if well_formed is not None:
            whole, decimals = well_formed.group(1), well_formed.group(2) or ""
            return f"{whole}.{decimals.ljust(SAGE100_MAX_DECIMALS, '0')}"
    elif mask is not None:
        if mask.pattern.fullmatch(code):
            return code
    elif len(code) <= SAGE300_MAX_CODE_LENGTH and _SAGE300_WELL_FORMED.fullmatch(code):
        return code
    if not code.strip():
        raise CostCodeFormatError(code, "is empty", f"enter a {name} cost code")
    bad = first_unprintable(code)
    if bad is not None:
        raise CostCodeFormatError(
            code, f"contains the non-printable character {bad!r}", "type the code again"
        )
    if erp_system == SAGE100:
        return _sage100_code(code)
    if mask is not None:
        return _masked_sage300_code(code, mask)
    return _sage300_code(code)


def _sage100_code(code: str) -> str:
    # "This number can't begin with a zero, a leading space, or a character." Sage KB "How to
    # create menu 6-5 Cost Codes", solution 222924950026198,
    # https://us-kb.sage.com/portal/app/portlets/results/viewsolution.jsp?solutionid=222924950026198
    rule_start = "Sage 100 Contractor codes start with a digit from 1 to 9"
    first = code[0]
    if first.isspace():
        raise CostCodeFormatError(code, "starts with a space", rule_start)
    if first == "0":
        raise CostCodeFormatError(code, "starts with 0", rule_start)
    if first.isalpha():
        raise CostCodeFormatError(code, "starts with a letter", rule_start)
    # Trailing blanks come from padded spreadsheet cells; the ERP ignores them too.
    cleaned = code.rstrip()
    if cleaned.count(".") > 1:
        raise CostCodeFormatError(
            code,
            "has more than one decimal point",
            "Sage 100 Contractor codes look like 2010.000",
        )
    match = _SAGE100_CODE.fullmatch(cleaned)
    if match is None:
        stray = next(
            (ch for ch in cleaned if not (ch.isascii() and ch.isdigit()) and ch != "."),
            ".",
        )
        raise CostCodeFormatError(
            code,
            f'contains "{shown(stray)}"',
            "Sage 100 Contractor codes are numbers such as 2010 or 2010.000",
        )
    whole, decimals = match.group(1), match.group(2) or ""
    if len(whole) > SAGE100_MAX_WHOLE_DIGITS:
        raise CostCodeFormatError(
            code,
            f"has {len(whole)} digits before the decimal point",
            f"Sage 100 Contractor allows at most {SAGE100_MAX_WHOLE_DIGITS}",
        )
    if len(decimals) > SAGE100_MAX_DECIMALS:
        raise CostCodeFormatError(
            code,
            f"has {len(decimals)} decimal places",
            f"Sage 100 Contractor allows at most {SAGE100_MAX_DECIMALS}",
        )
    return f"{whole}.{decimals.ljust(SAGE100_MAX_DECIMALS, '0')}"


def _masked_sage300_code(code: str, mask: CostCodeMask) -> str:
    cleaned = code.strip()
    reason = mask.misfit(cleaned)
    if reason is None:
        return cleaned
    raise CostCodeFormatError(code, f"does not fit {mask}", reason)


def _sage300_code(code: str) -> str:
    rule_delimiters = 'Sage 300 CRE allows only "/", "-" and "."'
    cleaned = code.strip()
    if len(cleaned) > SAGE300_MAX_CODE_LENGTH:
        raise CostCodeFormatError(
            code,
            f"is {len(cleaned)} characters long",
            f"Sage 300 CRE allows at most {SAGE300_MAX_CODE_LENGTH}",
        )
    for ch in cleaned:
        if ch in SAGE300_DELIMITERS or (ch.isascii() and ch.isalnum()):
            continue
        if ch.isalnum():
            raise CostCodeFormatError(
                code,
                f'contains "{ch}"',
                "Sage 300 CRE sections use only the letters A-Z and digits",
            )
        what = "a space" if ch.isspace() else f'"{shown(ch)}"'
        raise CostCodeFormatError(code, f"uses {what} as a delimiter", rule_delimiters)
    sections = SAGE300_SPLIT.split(cleaned)
    if len(sections) > SAGE300_MAX_SECTIONS:
        raise CostCodeFormatError(
            code,
            f"has {len(sections)} sections",
            f"Sage 300 CRE allows at most {SAGE300_MAX_SECTIONS}",
        )
    if len(sections) == 1:
        raise CostCodeFormatError(
            code,
            "has no sections",
            'Sage 300 CRE codes are sectioned with "/", "-" or "." (for example 01-100)',
        )
    if not all(_SAGE300_SECTION.fullmatch(section) for section in sections):
        raise CostCodeFormatError(
            code,
            "has an empty section",
            "every Sage 300 CRE section needs letters or digits between the delimiters",
        )
    return cleaned


def division_of(erp_system: str, code: str, mask: CostCodeMask | None = None) -> str:
    """The tier-1 division a valid code belongs to (Sage 100: its thousands; Sage 300: its
    first section).

    For Sage 100 Contractor this is only Sage's advice ("make each thousand a division", help
    19.7 "About cost code numbering systems"): a code's division is its own field, so use the
    ERP's division wherever it is known.
    """
    code = validate_cost_code(erp_system, code, mask)
    if erp_system == SAGE100:
        whole = int(code.split(".")[0])
        return str(whole // 1000 * 1000)
    return SAGE300_SPLIT.split(code)[0]


def validate_cost_type(erp_system: str, code: str) -> str:
    """Return the cost type as the ERP stores it, or raise CostTypeError."""
    erp_name(erp_system)
    if not isinstance(code, str):
        raise TypeError(f"A cost type must be text, not {type(code).__name__}.")
    cleaned = code.strip()
    if erp_system == SAGE100:
        if len(cleaned) == 1 and cleaned in "123456789":
            return cleaned
        raise CostTypeError(code, "Sage 100 Contractor cost types are the numbers 1 to 9")
    if _SAGE300_CATEGORY.fullmatch(cleaned):
        return cleaned.upper()
    raise CostTypeError(code, "Sage 300 CRE categories are 1 to 3 letters or digits, such as LAB")


def validate_cost_type_name(erp_system: str, name: str) -> str:
    """Return a cost type's (Sage 300 CRE category's) name stripped, or raise CostTypeError."""
    erp_name(erp_system)
    cleaned = (name or "").strip()
    if not cleaned or first_unprintable(cleaned) is not None:
        raise CostTypeError(name, "a cost type name is one line of text")
    if erp_system == SAGE300 and len(cleaned) > SAGE300_CATEGORY_NAME_LIMIT:
        raise CostTypeError(
            name, f"Sage 300 CRE category descriptions have at most {SAGE300_CATEGORY_NAME_LIMIT} characters"
        )
    return cleaned


def validate_description(erp_system: str, text: str) -> str:
    """Return the description stripped, or raise DescriptionError."""
    name = erp_name(erp_system)
    limit = DESCRIPTION_LIMITS[erp_system]
    if not isinstance(text, str):
        raise TypeError(f"A description must be text, not {type(text).__name__}.")
    cleaned = text.strip()
    if not cleaned:
        raise DescriptionError(text, "is empty", "enter a description")
    bad = first_unprintable(cleaned)
    if bad is not None:
        raise DescriptionError(
            text,
            f"contains the control character {bad!r}",
            f"{name} descriptions are one line of text",
        )
    if len(cleaned) > limit:
        raise DescriptionError(
            text, f"is {len(cleaned)} characters long", f"{name} allows at most {limit}"
        )
    return cleaned


def is_stored_form(
    erp_system: str, code: str, description: str, cost_type: str, mask: CostCodeMask | None = None
) -> bool:
    """True when the three are already exactly what the validate_* checks above would return,
    so they need not run; False says nothing (run the checks for their answer)."""
    return stored_form_test(erp_system, mask)(code, description, cost_type)


def stored_form_test(
    erp_system: str, mask: CostCodeMask | None = None
) -> Callable[[str, str, str], bool]:
    """is_stored_form for one ERP, with the ERP's rules looked up once: an export asks it of
    each of thousands of lines."""
    if erp_system == SAGE300 and mask is not None:
        code_form = mask.pattern.fullmatch
    else:
        code_form = _STORED_CODE[erp_system].fullmatch
    cost_type_form = _STORED_COST_TYPE[erp_system].fullmatch
    limit = DESCRIPTION_LIMITS[erp_system]

    def is_stored(code: str, description: str, cost_type: str) -> bool:
        return (
            code_form(code) is not None
            and cost_type_form(cost_type) is not None
            and 0 < len(description) <= limit
            and description.isprintable()
            and description.strip() == description
        )

    return is_stored


def validate_job_number(number: str, erp_system: str | None = None) -> str:
    """Return the job number stripped, or raise JobNumberError (with the ERP's own length
    limit when `erp_system` is given)."""
    if not isinstance(number, str):
        raise TypeError(f"A job number must be text, not {type(number).__name__}.")
    cleaned = number.strip()
    if not cleaned:
        raise JobNumberError(number, "enter a job number")
    if first_unprintable(cleaned) is not None:
        raise JobNumberError(number, "use letters, digits and punctuation only")
    if erp_system == SAGE300 and len(cleaned) > SAGE300_JOB_NUMBER_MAX_LENGTH:
        raise JobNumberError(
            number, f"Sage 300 CRE job numbers have at most {SAGE300_JOB_NUMBER_MAX_LENGTH} characters"
        )
    if len(cleaned) > JOB_NUMBER_MAX_LENGTH:
        raise JobNumberError(number, f"use at most {JOB_NUMBER_MAX_LENGTH} characters")
    return cleaned


def code_order_key(code: str) -> tuple[int, str]:
    """The order in which the ERPs list codes (and divisions): shorter before longer, then as text.

    Sage 100 Contractor codes are numbers stored as "2010.000" (never a leading 0, always three
    decimals), so this is their numeric order: 2010.000 before 10010.000, where text order puts
    10010.000 between 1000.000 and 1010.000.

    Sage 300 CRE codes sort section by section (DESIGN.md; no Sage page on the order was found).
    Codes that fit the company's mask all have its length, with the punctuation in the same
    places, so for them this is exactly section-by-section order; a code that does not fit (listed
    as invalid) sorts after the shorter ones.
    """
    return (len(code), code)


def in_code_order(column: ColumnElement[str]) -> tuple[ColumnElement[int], ColumnElement[str]]:
    """`code_order_key` as ORDER BY terms, for lists the database sorts and pages."""
    return (func.length(column), column)
