"""The Sage 100 Contractor file connector.

Sage 100 Contractor has no API we can rely on, so the hand-off is by files: accounting exports
the 6-5 cost code list into the inbox folder, and the portal writes approved codes as a 6-5
cost code import file into the outbox folder for accounting to open in Sage.
"""

import csv
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from portal.erp import formats
from portal.erp.base import (
    FORMAT_ERRORS,
    CommitmentExport,
    CommitmentResult,
    ErpCostCode,
    ErpCostType,
    ErpError,
    ErpJob,
    ExportLine,
    LineResult,
    export_line_validator,
)

SAGE100 = formats.SAGE100

# Column order of the 6-5 Cost Codes import (Sage 100 Contractor help, "Importing cost codes").
IMPORT_COLUMNS = [
    "Cost Code#",
    "Description",
    "Unit",
    "Division",
    "Comp Code1",
    "Wage Max",
    "Comp Code2",
    "Department",
]
# The file types Sage's 6-5 import opens: "save the file in comma delimited (*.cma), tab delimited
# (*.tab), or comma-quote (*.qte) file format" (same help page). The company chooses; tab is the
# default. Keys are the file extensions.
FILE_TYPES = {
    "tab": "Tab delimited (.tab)",
    "cma": "Comma delimited (.cma)",
    "qte": "Comma-quote (.qte)",
}
DEFAULT_FILE_TYPE = "tab"
# Sage 100 Contractor is a Windows program: its import files are ANSI text with CRLF endings.
IMPORT_ENCODING = "cp1252"

COST_CODE_FILE_NAMES = ("cost_codes.txt", "cost_codes.csv", "cost_codes.tab")
JOBS_FILE_NAME = "jobs.txt"
LEDGER_FILE_NAME = "export-ledger.json"

STANDARD_COST_TYPES = [
    ErpCostType("1", "Material"),
    ErpCostType("2", "Labor"),
    ErpCostType("3", "Equipment"),
    ErpCostType("4", "Subcontract"),
    ErpCostType("5", "Other"),
]

_FILE_COLUMNS = "cost code, description, unit, division"
_MIN_COLUMNS, _MAX_COLUMNS = 2, 4
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
    """Read a cost code list exported from Sage 100 Contractor (tab- or comma-separated).

    A bad row is reported and skipped; a file that is not a cost code list at all raises
    ErpError.
    """
    lines = _text_lines(data)
    delimiter = "\t" if any("\t" in line for _, line in lines) else ","
    parsed = [(number, _split_row(line, delimiter)) for number, line in lines]
    if _is_header(parsed[0][1]):
        parsed = parsed[1:]
        if not parsed:
            raise ErpError("The cost code file has a header row but no cost codes.")
    if not any(_MIN_COLUMNS <= len(cells) <= _MAX_COLUMNS for _, cells in parsed):
        raise ErpError(
            f"No row of the cost code file has the expected columns ({_FILE_COLUMNS}); "
            "export the 6-5 cost code list from Sage 100 Contractor as a tab- or "
            "comma-separated file."
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
        division = division or formats.division_of(SAGE100, code)
        result.codes.append(ErpCostCode(code, description, division))
    return result


def _text_lines(data: bytes) -> list[tuple[int, str]]:
    """The file's non-blank lines with their 1-based line numbers; ErpError if it is not text."""
    if not data.strip():
        raise ErpError("The cost code file is empty.")
    if b"\x00" in data:
        raise ErpError(
            "The cost code file contains NUL bytes: it is a binary or UTF-16 file, not a text "
            "export. Save it from Sage 100 Contractor as tab- or comma-separated text."
        )
    text = _decode(data)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    numbered = []
    for number, line in enumerate(lines, start=1):
        control = next((ch for ch in line if ch < " " and ch not in _ALLOWED_CONTROLS), None)
        if control is not None or "\x7f" in line:
            raise ErpError(
                f"The cost code file has binary data on line {number}; it is not a text export "
                "of the 6-5 cost code list."
            )
        if line.strip():
            numbered.append((number, line))
    if not numbered:
        raise ErpError("The cost code file is empty.")
    return numbered


def _decode(data: bytes) -> str:
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
            f"The cost code file is neither UTF-8 nor Windows-1252 text (byte "
            f"0x{data[error.start]:02x} at position {error.start}); save it again as text."
        ) from None


def _split_row(line: str, delimiter: str) -> list[str]:
    try:
        cells = next(csv.reader([line], delimiter=delimiter))
    except csv.Error as error:
        raise ErpError(f"The cost code file cannot be read as {_FILE_COLUMNS}: {error}.") from None
    # Spreadsheets pad rows with empty trailing cells; they are not columns.
    while len(cells) > 1 and not cells[-1].strip():
        cells.pop()
    return cells or [""]


def _is_header(cells: list[str]) -> bool:
    first = cells[0].lower()
    return "code" in first and not any(ch.isdigit() for ch in first)


def write_cost_code_import(
    outbox_dir: Path | str, lines: list[ExportLine], run_number: int, when: datetime
) -> Path:
    """Write the lines as a 6-5 cost code import file for this sync run and return its path.

    The file appears complete or not at all (temp file + rename), so accounting never opens a
    half-written import. Lines must already be valid (see `export_line_validator`).
    """
    outbox = Path(outbox_dir)
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / import_file_name(run_number, when)
    rows = [IMPORT_COLUMNS]
    rows += [[line.code, line.description, "", line.division or ""] + [""] * 4 for line in lines]
    text = "".join("\t".join(row) + "\r\n" for row in rows)
    _write_atomically(path, text.encode(IMPORT_ENCODING))
    return path


def import_file_name(run_number: int, when: datetime) -> str:
    return f"costcodes-{when:%Y%m%d}-{run_number:04d}.tab"


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


class Sage100FileConnector:
    """Sage 100 Contractor through files (implements ErpConnector).

    Use one connector per sync run: all its exports go to one import file. A JSON ledger in the
    outbox remembers every line written, so a repeated export writes nothing twice.
    """

    def __init__(self, inbox_dir: Path | str, outbox_dir: Path | str, clock=datetime.now):
        self.inbox = Path(inbox_dir)
        self.outbox = Path(outbox_dir)
        self.clock = clock
        self.last_file_errors: list[str] = []
        self._run_file: str | None = None
        self._run_when: datetime | None = None
        self._run_number = 0

    def fetch_cost_types(self) -> list[ErpCostType]:
        return list(STANDARD_COST_TYPES)

    def fetch_standard_cost_codes(self) -> list[ErpCostCode]:
        """Every row of the newest cost code list in the inbox, unvalidated; rows without the
        right columns are left out and listed in `last_file_errors`."""
        result = self._read_inbox_codes()
        if result is None:
            raise ErpError(
                f"There is no cost code list in {self.inbox}; export the 6-5 cost code list from "
                f"Sage 100 Contractor there as {' or '.join(COST_CODE_FILE_NAMES)}."
            )
        return result.rows

    def fetch_jobs(self) -> list[ErpJob]:
        return list(self._jobs_in_inbox() or {})

    def create_job(self, number: str, name: str) -> ErpJob:
        known = {job.number: job for job in self._jobs_in_inbox() or []}
        if number in known:
            return known[number]
        raise ErpError(
            f'Job "{formats.shown(number)}" is not in {self.inbox / JOBS_FILE_NAME}. The file '
            "connector cannot create jobs: set the job up in Sage 100 Contractor and export the "
            "job list."
        )

    def export_cost_code_lines(self, job_number: str, lines: list[ExportLine]) -> list[LineResult]:
        return self.export_job_cost_codes({job_number: lines})[job_number]

    def export_job_cost_codes(
        self, lines_by_job: Mapping[str, Sequence[ExportLine]]
    ) -> dict[str, list[LineResult]]:
        """Every job's lines with one read of the inbox and one write of the file and ledger."""
        jobs = self._jobs_in_inbox()
        known_jobs = None if jobs is None else {job.number for job in jobs}
        # The 6-5 import overwrites a code's description, so codes Sage already has are never
        # written: the ERP's text must stay.
        inbox = self._read_inbox_codes()
        in_sage = {code.code: code.description for code in inbox.codes} if inbox else {}
        ledger = self._load_ledger()
        validate = export_line_validator(SAGE100)
        results: dict[str, list[LineResult]] = {}
        for job_number, lines in lines_by_job.items():
            if known_jobs is not None and job_number not in known_jobs:
                message = (
                    f'Job "{formats.shown(job_number)}" does not exist in Sage 100 Contractor '
                    f"(not in {JOBS_FILE_NAME}); create the job first."
                )
                results[job_number] = [
                    LineResult(line.code, line.cost_type, "failed", message) for line in lines
                ]
                continue
            job_results = results[job_number] = []
            for line in lines:
                try:
                    valid = validate(line)
                    valid.description.encode(IMPORT_ENCODING)
                except FORMAT_ERRORS as error:
                    job_results.append(LineResult(line.code, line.cost_type, "failed", str(error)))
                    continue
                except UnicodeEncodeError:
                    message = (
                        f'Description "{formats.shown(line.description)}" has characters that a '
                        "Sage 100 Contractor import file cannot hold."
                    )
                    job_results.append(LineResult(line.code, line.cost_type, "failed", message))
                    continue
                job_results.append(self._export_line(ledger, job_number, valid, in_sage))
        # The import file is written before the ledger: after a crash in between, a line may be
        # written again next run (harmless, Sage overwrites it with the same text) but never lost.
        if self._run_file in ledger["files"]:
            self._write_run_file(ledger)
        self._save_ledger(ledger)
        return results

    def _export_line(
        self, ledger: dict, job_number: str, line: ExportLine, in_sage: dict[str, str]
    ) -> LineResult:
        line_key = "\t".join([job_number, line.code, line.cost_type])
        if line_key in ledger["lines"]:
            return LineResult(
                line.code,
                line.cost_type,
                "unchanged",
                f"Already written to {ledger['lines'][line_key]}.",
            )
        if line.code in in_sage:
            ledger["lines"][line_key] = "Sage 100 Contractor"
            if in_sage[line.code] != line.description:
                message = (
                    f'Kept the ERP description "{in_sage[line.code]}" '
                    f'(portal had "{line.description}").'
                )
                return LineResult(line.code, line.cost_type, "description_kept", message)
            return LineResult(
                line.code,
                line.cost_type,
                "unchanged",
                "Already in Sage 100 Contractor.",
            )
        file_name = self._run_file_name(ledger)
        rows = ledger["files"].setdefault(file_name, [])
        if line.code not in {row["code"] for row in rows}:
            rows.append(
                {
                    "code": line.code,
                    "description": line.description,
                    "division": line.division,
                }
            )
        ledger["lines"][line_key] = file_name
        return LineResult(
            line.code,
            line.cost_type,
            "created",
            f"written to {file_name} for import in Sage 100 Contractor (6-5)",
        )

    def export_commitment(self, job_number: str, commitment: CommitmentExport) -> CommitmentResult:
        return CommitmentResult(
            commitment.number,
            "failed",
            "The Sage 100 Contractor file connector does not export contracts or change orders; "
            "enter them in Sage 100 Contractor.",
        )

    # -- inbox ---------------------------------------------------------------------------

    def _read_inbox_codes(self) -> CostCodeFileResult | None:
        candidates = [self.inbox / name for name in COST_CODE_FILE_NAMES]
        existing = [path for path in candidates if path.is_file()]
        if not existing:
            return None
        newest = max(existing, key=lambda path: path.stat().st_mtime)
        try:
            result = read_cost_code_file(newest.read_bytes())
        except OSError as error:
            raise ErpError(f"Cannot read {newest}: {error.strerror}.") from None
        except ErpError as error:
            raise ErpError(f"{newest.name}: {error}") from None
        self.last_file_errors = [f"{newest.name}: {message}" for message in result.errors]
        return result

    def _jobs_in_inbox(self) -> list[ErpJob] | None:
        """The jobs in jobs.txt, or None when there is no job list to check against."""
        path = self.inbox / JOBS_FILE_NAME
        if not path.is_file():
            return None
        try:
            lines = _text_lines(path.read_bytes())
        except OSError as error:
            raise ErpError(f"Cannot read {path}: {error.strerror}.") from None
        except ErpError as error:
            raise ErpError(
                f"{JOBS_FILE_NAME}: {error}".replace("cost code file", "job list")
            ) from None
        delimiter = "\t" if any("\t" in line for _, line in lines) else ","
        jobs = []
        for _, line in lines:
            cells = _split_row(line, delimiter)
            number = cells[0].strip()
            if number and not _is_job_header(number):
                jobs.append(ErpJob(number, cells[1].strip() if len(cells) > 1 else ""))
        return jobs

    # -- outbox --------------------------------------------------------------------------

    def _run_file_name(self, ledger: dict) -> str:
        if self._run_file is None:
            ledger["last_run"] += 1
            self._run_number = ledger["last_run"]
            self._run_when = self.clock()
            self._run_file = import_file_name(self._run_number, self._run_when)
        return self._run_file

    def _write_run_file(self, ledger: dict) -> None:
        lines = [
            ExportLine(row["code"], row["description"], "", row["division"])
            for row in ledger["files"][self._run_file]
        ]
        write_cost_code_import(self.outbox, lines, self._run_number, self._run_when)

    def _load_ledger(self) -> dict:
        path = self.outbox / LEDGER_FILE_NAME
        if not path.is_file():
            return {"last_run": 0, "lines": {}, "files": {}}
        try:
            ledger = json.loads(path.read_text(encoding="utf-8"))
            if not {"last_run", "lines", "files"} <= ledger.keys():
                raise ValueError("keys missing")
        except (OSError, ValueError, AttributeError) as error:
            raise ErpError(
                f"The export ledger {path} is damaged ({error}); restore it from a backup so "
                "nothing is exported twice."
            ) from None
        return ledger

    def _save_ledger(self, ledger: dict) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        data = json.dumps(ledger, indent=1, sort_keys=True).encode("utf-8")
        _write_atomically(self.outbox / LEDGER_FILE_NAME, data)


def _is_job_header(first_cell: str) -> bool:
    lowered = first_cell.lower()
    return "job" in lowered and not any(ch.isdigit() for ch in lowered)
