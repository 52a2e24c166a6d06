import contextlib
import re
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.erp import formats
from portal.erp.formats import (
    DESCRIPTION_LIMITS,
    CostCodeFormatError,
    CostTypeError,
    DescriptionError,
    division_of,
    validate_cost_code,
    validate_cost_type,
    validate_description,
)

SAGE100, SAGE300 = "sage100c", "sage300cre"


@pytest.mark.parametrize(
    ("code", "stored"),
    [
        ("2010", "2010.000"),
        ("2010.000", "2010.000"),
        ("2010.5", "2010.500"),
        ("1", "1.000"),
        ("999999.999", "999999.999"),
        ("2010 ", "2010.000"),
    ],
)
def test_sage100_accepts_numeric_codes_and_pads_three_decimals(code, stored):
    assert validate_cost_code(SAGE100, code) == stored


@pytest.mark.parametrize(
    ("code", "named_rule"),
    [
        ("0100.000", "starts with 0"),
        (" 100", "starts with a space"),
        ("A100", "starts with a letter"),
        ("1234567", "at most 6"),
        ("12.3456", "at most 3"),
        ("12-100", 'contains "-"'),
        ("1.2.3", "more than one decimal point"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("20\x0010", "non-printable"),
    ],
)
def test_sage100_rejects_bad_codes_naming_code_and_rule(code, named_rule):
    with pytest.raises(CostCodeFormatError) as caught:
        validate_cost_code(SAGE100, code)
    message = str(caught.value)
    assert named_rule in message
    assert "Sage 100 Contractor" in message or "empty" in message or "printable" in message
    assert caught.value.code == code


@pytest.mark.parametrize("code", ["12-3456-789", "01.100", "1/200", "03-310", "A1-B2.C3"])
def test_sage300_accepts_codes_sectioned_by_slash_dash_or_period(code):
    assert validate_cost_code(SAGE300, code) == code


@pytest.mark.parametrize("code", ["12_100", "01 100", "01,100", "01:100"])
def test_sage300_rejects_other_delimiters_naming_the_code(code):
    with pytest.raises(CostCodeFormatError) as caught:
        validate_cost_code(SAGE300, code)
    message = str(caught.value)
    assert f'"{code}"' in message
    assert 'Sage 300 CRE allows only "/", "-" and "."' in message


def test_sage300_delimiter_message_reads_as_a_sentence():
    with pytest.raises(CostCodeFormatError) as caught:
        validate_cost_code(SAGE300, "12_100")
    assert str(caught.value) == (
        'Cost code "12_100" uses "_" as a delimiter; Sage 300 CRE allows only "/", "-" and ".".'
    )


def test_sage300_rejects_unsectioned_code():
    with pytest.raises(CostCodeFormatError, match='"01100" has no sections'):
        validate_cost_code(SAGE300, "01100")


@pytest.mark.parametrize("code", ["-100", "01-", "01--100", "x" * 28 + "-12", "é1-100", "\t01-1"])
def test_sage300_rejects_empty_sections_long_and_non_ascii_codes(code):
    with pytest.raises(CostCodeFormatError):
        validate_cost_code(SAGE300, code)


def test_long_hostile_code_is_cut_short_in_the_message():
    with pytest.raises(CostCodeFormatError) as caught:
        validate_cost_code(SAGE300, "1" * 500)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("erp", "code", "division"),
    [
        (SAGE100, "2010.000", "2000"),
        (SAGE100, "15100", "15000"),
        (SAGE100, "500", "0"),
        (SAGE300, "03-310", "03"),
        (SAGE300, "1/200", "1"),
        (SAGE300, "12-3456-789", "12"),
    ],
)
def test_division_of_is_the_tier_one_part(erp, code, division):
    assert division_of(erp, code) == division


def test_division_of_rejects_bad_codes():
    with pytest.raises(CostCodeFormatError):
        division_of(SAGE300, "01100")


@pytest.mark.parametrize(
    ("erp", "given_type", "stored"),
    [
        (SAGE100, "1", "1"),
        (SAGE100, " 9 ", "9"),
        (SAGE300, "lab", "LAB"),
        (SAGE300, "S1", "S1"),
    ],
)
def test_cost_types_accepted(erp, given_type, stored):
    assert validate_cost_type(erp, given_type) == stored


@pytest.mark.parametrize(
    ("erp", "given_type"),
    [
        (SAGE100, "0"),
        (SAGE100, "10"),
        (SAGE100, "M"),
        (SAGE300, "LABR"),
        (SAGE300, ""),
        (SAGE300, "L-B"),
    ],
)
def test_cost_types_rejected_with_the_rule(erp, given_type):
    with pytest.raises(CostTypeError) as caught:
        validate_cost_type(erp, given_type)
    assert f'"{given_type}"' in str(caught.value)


@pytest.mark.parametrize("erp", [SAGE100, SAGE300])
def test_description_is_stripped_and_limited(erp):
    limit = DESCRIPTION_LIMITS[erp]
    assert validate_description(erp, "  Site Work ") == "Site Work"
    assert validate_description(erp, "x" * limit) == "x" * limit
    with pytest.raises(DescriptionError, match=f"at most {limit}"):
        validate_description(erp, "x" * (limit + 1))


@pytest.mark.parametrize("text", ["", "   ", "Site\nWork", "Site\tWork", "Site\x00Work"])
def test_description_rejects_empty_and_control_characters(text):
    with pytest.raises(DescriptionError):
        validate_description(SAGE100, text)


@pytest.mark.parametrize("erp", [SAGE100, SAGE300])
@given(text=st.text())
def test_any_text_is_a_code_or_a_format_error(erp, text):
    try:
        result = validate_cost_code(erp, text)
    except CostCodeFormatError as error:
        assert error.code == text
        assert str(error)
    else:
        assert isinstance(result, str)
        assert validate_cost_code(erp, result) == result


@pytest.mark.parametrize("erp", [SAGE100, SAGE300])
@given(text=st.text(alphabet=st.sampled_from("0123456789./-_ ,A")))
def test_code_like_text_is_a_code_or_a_format_error(erp, text):
    with contextlib.suppress(CostCodeFormatError):
        assert validate_cost_code(erp, text)


def _answer(erp, text):
    try:
        return validate_cost_code(erp, text)
    except CostCodeFormatError as error:
        return ("error", str(error))


@pytest.mark.parametrize("erp", [SAGE100, SAGE300])
@given(
    text=st.one_of(
        st.text(alphabet=st.sampled_from("0123456789./-AZaz_ \t\u00e9\u00a0"), max_size=36),
        st.from_regex(formats._SAGE100_WELL_FORMED, fullmatch=True),
        st.from_regex(formats._SAGE300_WELL_FORMED, fullmatch=True),
    )
)
def test_well_formed_fast_path_gives_the_full_rules_answer(erp, text):
    never = re.compile(r"(?!)")
    with mock.patch.object(formats, "_SAGE100_WELL_FORMED", never), mock.patch.object(
        formats, "_SAGE300_WELL_FORMED", never
    ):
        full = _answer(erp, text)
    assert _answer(erp, text) == full


_code_like = st.text(alphabet=st.sampled_from("0123456789./-AZaz_ \t\u00e9\u00a0\n"), max_size=36)


@pytest.mark.parametrize("erp", [SAGE100, SAGE300])
@given(
    code=st.one_of(
        _code_like,
        st.from_regex(formats._STORED_CODE[SAGE100], fullmatch=True),
        st.from_regex(formats._SAGE300_WELL_FORMED, fullmatch=True),
    ),
    description=st.one_of(
        st.text(max_size=60), st.sampled_from(["Site Work", " Site Work", "Site\u00a0Work"])
    ),
    cost_type=st.one_of(st.text(max_size=4), st.sampled_from(["1", "9", "0", "LAB", "lab", "LABO"])),
)
def test_an_export_line_taken_as_stored_is_what_the_checks_would_return(erp, code, description, cost_type):
    """The export's shortcut for lines already in the ERP's form never lets through what the
    format rules would change or refuse."""
    if not formats.is_stored_form(erp, code, description, cost_type):
        return
    assert validate_cost_code(erp, code) == code
    assert validate_description(erp, description) == description
    assert formats.validate_cost_type(erp, cost_type) == cost_type


@pytest.mark.parametrize(
    ("erp", "code", "description", "cost_type", "stored"),
    [
        (SAGE100, "2010.000", "Site Work", "1", True),
        (SAGE300, "03-310", "Concrete Forms", "LAB", True),
        (SAGE100, "2010", "Site Work", "1", False),  # stored as 2010.000
        (SAGE100, "2010.000", " Site Work", "1", False),  # stored stripped
        (SAGE100, "2010.000", "x" * 51, "1", False),  # too long for the ERP
        (SAGE300, "03-310", "Concrete Forms", "lab", False),  # stored as LAB
        (SAGE300, "03 310", "Concrete Forms", "LAB", False),  # a delimiter Sage 300 CRE refuses
    ],
)
def test_export_lines_in_the_erps_own_form_are_recognised(erp, code, description, cost_type, stored):
    assert formats.is_stored_form(erp, code, description, cost_type) is stored


# --- Sage 300 CRE cost code masks (DESIGN: "A code that does not fit the mask is refused with a
# message naming the code and the mask") ---

MASK = formats.parse_mask("99-999")


def test_sage300_mask_is_shown_as_nines_and_punctuation():
    mask = formats.parse_mask(" 9-999.99 ")
    assert (mask.lengths, mask.punctuation) == ((1, 3, 2), ("-", "."))
    assert str(mask) == "9-999.99"
    assert formats.parse_mask("") is None and formats.parse_mask(None) is None


@pytest.mark.parametrize("code", ["01-100", "03-950", "AB-C12"])
def test_sage300_code_fitting_the_mask_is_accepted(code):
    assert validate_cost_code(SAGE300, code, MASK) == code


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("01-1000", "its section 2 has 4 characters where the mask has 3"),
        ("1-100", "its section 1 has 1 character where the mask has 2"),
        ("01.100", 'it separates sections 1 and 2 with ".", the mask with "-"'),
        ("01-100-10", "it has 3 sections, the mask 2 sections"),
        ("01_100", 'it contains "_"'),
        ("01100", "it has 1 section, the mask 2 sections"),
    ],
)
def test_sage300_code_not_fitting_the_mask_is_refused_naming_code_and_mask(code, reason):
    with pytest.raises(CostCodeFormatError) as caught:
        validate_cost_code(SAGE300, code, MASK)
    assert str(caught.value).startswith(f'Cost code "{code}" does not fit 99-999; ')
    assert reason in str(caught.value)


def test_sage300_mask_message_reads_as_a_sentence():
    with pytest.raises(CostCodeFormatError) as caught:
        validate_cost_code(SAGE300, "01-1000", MASK)
    assert str(caught.value) == (
        'Cost code "01-1000" does not fit 99-999; its section 2 has 4 characters where the mask has 3.'
    )


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("9-9-9-9-9", "at most 4"),
        ("999999-999999", "at most 12"),
        ("99_999", 'use one of "/", "-" or "."'),
        ("99--999", 'use one of "/", "-" or "."'),
        ("-999", "one 9 per character"),
        ("99-", "one 9 per character"),
        ("XX-999", "one 9 per character"),
    ],
)
def test_sage300_mask_sage_could_not_have_is_refused_naming_it(text, rule):
    with pytest.raises(formats.MaskError) as caught:
        formats.parse_mask(text)
    assert f'"{text}"' in str(caught.value)
    assert rule in str(caught.value)


def test_sage300_code_is_at_most_12_characters_and_4_sections_without_a_mask():
    assert validate_cost_code(SAGE300, "1234-567-890") == "1234-567-890"
    with pytest.raises(CostCodeFormatError, match="13 characters long; Sage 300 CRE allows at most 12"):
        validate_cost_code(SAGE300, "1234-5678-901")
    with pytest.raises(CostCodeFormatError, match="has 5 sections; Sage 300 CRE allows at most 4"):
        validate_cost_code(SAGE300, "1-2-3-4-5")


def test_sage300_description_is_at_most_30_and_sage100_at_most_50():
    assert DESCRIPTION_LIMITS == {SAGE100: 50, SAGE300: 30}
    with pytest.raises(DescriptionError, match="Sage 300 CRE allows at most 30"):
        validate_description(SAGE300, "x" * 31)
    assert validate_description(SAGE100, "x" * 50) == "x" * 50


def test_sage300_job_number_is_at_most_10_characters():
    assert formats.validate_job_number("23-0301", SAGE300) == "23-0301"
    with pytest.raises(formats.JobNumberError, match="at most 10"):
        formats.validate_job_number("2023-000301", SAGE300)
    assert formats.validate_job_number("2023-000301", SAGE100) == "2023-000301"


@pytest.mark.parametrize("code", ["01-100", "01-1000", "1-100", "01.100"])
def test_an_export_line_in_mask_form_is_recognised_only_when_it_fits(code):
    fits = code == "01-100"
    assert formats.is_stored_form(SAGE300, code, "Forms", "LAB", MASK) is fits


@given(text=st.text(alphabet=st.sampled_from("0123456789./-A_ \t"), max_size=14))
def test_any_code_fits_the_mask_or_is_refused_naming_the_mask(text):
    try:
        result = validate_cost_code(SAGE300, text, MASK)
    except CostCodeFormatError as error:
        assert "99-999" in str(error) or "empty" in str(error) or "printable" in str(error)
    else:
        assert MASK.pattern.fullmatch(result)


def test_codes_fitting_a_mask_sort_section_by_section():
    codes = ["10-100", "02-950", "02-100", "01-200"]
    assert sorted(codes, key=formats.code_order_key) == ["01-200", "02-100", "02-950", "10-100"]


def test_sage300_category_description_is_at_most_30_characters():
    assert formats.validate_cost_type_name(SAGE300, " Labor ") == "Labor"
    with pytest.raises(CostTypeError, match="at most 30"):
        formats.validate_cost_type_name(SAGE300, "x" * 31)
    with pytest.raises(CostTypeError):
        formats.validate_cost_type_name(SAGE300, "")
