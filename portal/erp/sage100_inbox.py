"""The files accounting puts in the Sage 100 Contractor file connector's inbox.

These are the PORTAL'S OWN formats, not Sage exports: no documented Sage 100 Contractor export of
the cost code list, the division list or the job list was found (Sage's help documents only the
6-5 imports; see /work/notes/sage_facts.md, GAPS). So that one layout serves both ways, the
cost code list takes the columns of Sage's 6-5 Cost Codes import (Cost Code#, Description, Unit,
Division, ...) and the division list those of its Cost Divisions import (Division#,
Description); accounting fills them from Sage however it can (a report, a copy of the grid).
Each may be tab- or comma-separated, with or without a header row.
"""

import csv
from dataclasses import dataclass, field

from portal.erp import formats
from portal.erp.base import FORMAT_ERRORS, ErpCostCode, ErpError, ErpJob

SAGE100 = formats.SAGE100

COST_CODE_FILE_NAMES = ("cost_codes.txt", "cost_codes.csv", "cost_codes.tab")
DIVISIONS_FILE_NAME = "divisions.txt"
JOBS_FILE_NAME = "jobs.txt"

_FILE_COLUMNS = "Cost Code#, Description, Unit, Division"
# Cost Code# and Description at least; at most the 6-5 import's eight columns.
_MIN_COLUMNS, _MAX_COLUMNS = 2, 8
_ALLOWED_CONTROLS = {"\t", "\r", "\n"}


@dataclass
class CostCodeFileResult:
    """`codes`: the good rows, validated and normalised. `errors`: one message per bad row.
    `rows`: every row with the right columns, as written in the file (bad codes included), for
    callers that validate and report codes themselves."""

    codes: list[ErpCostCode]
    errors: list[str]
    rows: list[ErpCostCode] = field(default_factory=list)


def read_cost_code_file(data: bytes) -> CostCodeFileResult:
    """Read the inbox cost code list. A bad row is reported and skipped; a file that is not a
    cost code list at all raises ErpError. A row's division is what the file says (never
    guessed from the code: in Sage a code's division is a field of its own)."""
    lines = text_lines(data, "cost code file")
    delimiter = _delimiter(lines)
    parsed = [(number, split_row(line, delimiter)) for number, line in lines]
    if _is_header(parsed[0][1], "code"):
        parsed = parsed[1:]
        if not parsed:
            raise ErpError("The cost code file has a header row but no cost codes.")
    if not any(_MIN_COLUMNS <= len(cells) <= _MAX_COLUMNS for _, cells in parsed):
        raise ErpError(
            f"No row of the cost code file has the expected columns ({_FILE_COLUMNS}); save "
            "the company's cost code list as a tab- or comma-separated file in that order."
        )

    result = CostCodeFileResult(codes=[], errors=[])
    first_row_of: dict[str, int] = {}
    for number, cells in parsed:
        if not _MIN_COLUMNS <= len(cells) <= _MAX_COLUMNS:
            result.errors.append(
                f'Row {number} (cost code "{formats.shown(cells[0])}") has {len(cells)} '
                f"column{'' if len(cells) == 1 else 's'}; expected {_FILE_COLUMNS}."
            )
            continue
        raw_code, description = cells[0], cells[1].strip()
        division = cells[3].strip() if len(cells) > 3 else ""
        result.rows.append(ErpCostCode(raw_code, description, division))
        try:
            code = formats.validate_cost_code(SAGE100, raw_code)
            description = formats.validate_description(SAGE100, description)
        except FORMAT_ERRORS as error:
            result.errors.append(f"Row {number}: {error}")
            continue
        if code in first_row_of:
            result.errors.append(
                f'Row {number}: cost code "{code}" repeats row {first_row_of[code]}; '
                "kept the first."
            )
            continue
        first_row_of[code] = number
        result.codes.append(ErpCostCode(code, description, division))
    return result


def read_division_file(data: bytes) -> dict[str, str]:
    """The inbox division list: {Division#: Description}. Rows without a division number are
    left out; a file that is not text raises ErpError."""
    lines = text_lines(data, "division list")
    delimiter = _delimiter(lines)
    divisions: dict[str, str] = {}
    for _, line in lines:
        cells = split_row(line, delimiter)
        number = cells[0].strip()
        if number and not _is_header(cells, "division"):
            divisions.setdefault(number, cells[1].strip() if len(cells) > 1 else "")
    return divisions


def read_job_file(data: bytes) -> list[ErpJob]:
    lines = text_lines(data, "job list")
    delimiter = _delimiter(lines)
    jobs = []
    for _, line in lines:
        cells = split_row(line, delimiter)
        number = cells[0].strip()
        if number and not _is_header(cells, "job"):
            jobs.append(ErpJob(number, cells[1].strip() if len(cells) > 1 else ""))
    return jobs


def text_lines(data: bytes, what: str) -> list[tuple[int, str]]:
    """The file's non-blank lines with their 1-based line numbers; ErpError if it is not text."""
    if not data.strip():
        raise ErpError(f"The {what} is empty.")
    if b"\x00" in data:
        raise ErpError(
            f"The {what} contains NUL bytes: it is a binary or UTF-16 file, not text. Save it as "
            "tab- or comma-separated text."
        )
    text = _decode(data, what)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    numbered = []
    for number, line in enumerate(lines, start=1):
        control = next((ch for ch in line if ch < " " and ch not in _ALLOWED_CONTROLS), None)
        if control is not None or "\x7f" in line:
            raise ErpError(f"The {what} has binary data on line {number}; it is not text.")
        if line.strip():
            numbered.append((number, line))
    if not numbered:
        raise ErpError(f"The {what} is empty.")
    return numbered


def _decode(data: bytes, what: str) -> str:
    # Sage and Excel on Windows write ANSI (cp1252) unless told to use UTF-8, often with a BOM.
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise ErpError(
            f"The {what} is neither UTF-8 nor Windows-1252 text (byte "
            f"0x{data[error.start]:02x} at position {error.start}); save it again as text."
        ) from None


def _delimiter(lines: list[tuple[int, str]]) -> str:
    return "\t" if any("\t" in line for _, line in lines) else ","


def split_row(line: str, delimiter: str) -> list[str]:
    try:
        cells = next(csv.reader([line], delimiter=delimiter))
    except csv.Error as error:
        raise ErpError(f"The file cannot be read as delimited text: {error}.") from None
    # Spreadsheets pad rows with empty trailing cells; they are not columns.
    while len(cells) > 1 and not cells[-1].strip():
        cells.pop()
    return cells or [""]


def _is_header(cells: list[str], word: str) -> bool:
    first = cells[0].lower()
    return word in first and not any(ch.isdigit() for ch in first)
