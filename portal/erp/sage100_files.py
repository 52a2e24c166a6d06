"""The Sage 100 Contractor file connector.

The hand-off is by files, as Sage documents them: the portal writes approved codes that Sage
lacks as a 6-5 Cost Codes import file (and, before it, a Cost Divisions import file for the
divisions they need) into the outbox, for accounting to open in Sage (6-5 Cost Codes, File >
Open). Sources (Sage 100 Contractor help 19.2 and 21.2, "Importing cost codes" and "Importing
cost divisions"):
https://help-sage100contractor.na.sage.com/Sage100Contractor/US/21_2/Content/Modules/6-Project_Management/Importing_cost_codes.htm
https://sage100contractorhelp.sagecre.com/help/Sage100Contractor/US/19_2/Content/Modules/6-Project_Management/Importing_cost_divisions.htm

What Sage's help does NOT document, and this connector therefore does not pretend to do:
- an export of the cost code, division or job list: what the connector reads from the inbox is
  the portal's own format (see `sage100_inbox`);
- a file for a job's budget lines (6-2 Budgets): a job cost code (job, cost code, cost type) is
  not in the 6-5 import, which holds company-wide codes only. Every line's result, and a
  checklist file in the outbox, says what accounting must enter in 6-2 Budgets by hand.
Nothing here was ever run against a real Sage 100 Contractor.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from portal.erp import formats
from portal.erp.base import (
    FORMAT_ERRORS,
    NO_SUCH_JOB,
    CommitmentExport,
    CommitmentResult,
    ErpConnector,
    ErpCostCode,
    ErpCostType,
    ErpError,
    ErpJob,
    ExportLine,
    LineResult,
    export_line_validator,
)
from portal.erp.sage100_export import RunExport
from portal.erp.sage100_import import DEFAULT_FILE_TYPE, FILE_TYPES, write_atomically
from portal.erp.sage100_inbox import (
    COST_CODE_FILE_NAMES,
    DIVISIONS_FILE_NAME,
    JOBS_FILE_NAME,
    CostCodeFileResult,
    read_cost_code_file,
    read_division_file,
    read_job_file,
)

SAGE100 = formats.SAGE100

LEDGER_FILE_NAME = "export-ledger.json"

# "Cost types 1 through 5 are preset by the system, but you can customize cost types 6 through 9"
# (help 24.1, "Setting up cost types",
# https://help-sage100contractor.na.sage.com/Sage100Contractor/US/24_1/Content/Modules/6-Project_Management/Setting_up_cost_types.htm).
# The names a company gives 6-9 live only in Sage, which this connector cannot read: it offers 1-5.
STANDARD_COST_TYPES = [
    ErpCostType("1", "Material"),
    ErpCostType("2", "Labor"),
    ErpCostType("3", "Equipment"),
    ErpCostType("4", "Subcontract"),
    ErpCostType("5", "Other"),
]


class Sage100FileConnector(ErpConnector):
    """Sage 100 Contractor through files.

    Use one connector per sync run: all its exports go to one set of files. A JSON ledger in the
    outbox remembers every line and division written, so a repeated export writes nothing twice.
    `division_names`: the portal's names for divisions, for a divisions file when a new code
    needs a division Sage lacks.
    """

    def __init__(
        self, inbox_dir: Path | str, outbox_dir: Path | str, clock=datetime.now, *,
        file_type: str = DEFAULT_FILE_TYPE, division_names: Mapping[str, str] | None = None,
    ):
        if file_type not in FILE_TYPES:
            raise ErpError(f'"{file_type}" is not a Sage 100 Contractor import file type.')
        self.inbox = Path(inbox_dir)
        self.outbox = Path(outbox_dir)
        self.clock = clock
        self.file_type = file_type
        self.division_names = {key: name for key, name in (division_names or {}).items() if name}
        self.last_file_errors: list[str] = []
        self._run: tuple[int, datetime] | None = None

    # -- reading -------------------------------------------------------------------------

    def fetch_cost_types(self) -> list[ErpCostType]:
        return list(STANDARD_COST_TYPES)

    def fetch_standard_cost_codes(self) -> list[ErpCostCode]:
        """Every row of the newest cost code list in the inbox, unvalidated; rows without the
        right columns are left out and listed in `last_file_errors`. A row whose division Sage
        lacks, or that has none, carries the reason as its `problem`."""
        result = self._read_inbox_codes()
        if result is None:
            raise ErpError(
                f"There is no cost code list in {self.inbox}: save the company's cost code list "
                f"there as {' or '.join(COST_CODE_FILE_NAMES)} (columns Cost Code#, Description, "
                "Unit, Division; the portal's own format, since Sage documents no export)."
            )
        divisions = self._inbox_divisions()
        rows = []
        for row in result.rows:
            problem = None
            if not row.division:
                problem = (
                    f'Cost code "{formats.shown(row.code)}" has no division in the cost code list; '
                    "Sage 100 Contractor requires one (Cost Code#, Description and Division)."
                )
            elif divisions is not None and row.division not in divisions:
                problem = (
                    f'Cost code "{formats.shown(row.code)}" is in division {formats.shown(row.division)}, '
                    f"which is not in Sage 100 Contractor's division list ({DIVISIONS_FILE_NAME})."
                )
            rows.append(ErpCostCode(row.code, row.description, row.division, problem))
        return rows

    def job_codes_unreadable(self) -> str:
        # fetch_job_cost_codes stays the default None: see "What Sage's help does NOT document".
        return (
            f"The {formats.ERP_NAMES[SAGE100]} file connector cannot read a job's cost codes: Sage "
            "documents no export of a job's budget lines. Differences with ERP jobs cannot be listed; "
            "compare them in 6-2 Budgets."
        )

    def fetch_jobs(self) -> list[ErpJob]:
        return list(self._jobs_in_inbox() or {})

    def create_job(self, number: str, name: str) -> ErpJob:
        known = {job.number: job for job in self._jobs_in_inbox() or []}
        if number in known:
            return known[number]
        raise ErpError(
            f'Job "{formats.shown(number)}" is not in {self.inbox / JOBS_FILE_NAME}. The file '
            "connector cannot create jobs: set the job up in Sage 100 Contractor (3-5 Jobs) and "
            "add it to the job list."
        )

    # -- exporting -----------------------------------------------------------------------

    def export_cost_code_lines(self, job_number: str, lines: list[ExportLine]) -> list[LineResult]:
        return self.export_job_cost_codes({job_number: lines})[job_number]

    def export_job_cost_codes(
        self, lines_by_job: Mapping[str, Sequence[ExportLine]]
    ) -> dict[str, list[LineResult]]:
        """Every job's lines with one read of the inbox and one write of the files and ledger."""
        jobs = self._jobs_in_inbox()
        known_jobs = None if jobs is None else {job.number for job in jobs}
        # The 6-5 import overwrites a code's description, so codes Sage already has are never
        # written: the ERP's text must stay (rule 4).
        inbox = self._read_inbox_codes()
        in_sage = {code.code: code.description for code in inbox.codes} if inbox else {}
        ledger = self._load_ledger()
        export = RunExport(self, ledger, in_sage, self._known_divisions(inbox, ledger))
        validate = export_line_validator(SAGE100)
        results: dict[str, list[LineResult]] = {}
        for job_number, lines in lines_by_job.items():
            if known_jobs is not None and job_number not in known_jobs:
                message = (
                    f'Job "{formats.shown(job_number)}" does not exist in Sage 100 Contractor '
                    f"(not in {JOBS_FILE_NAME}); create the job first."
                )
                results[job_number] = [
                    LineResult(line.code, line.cost_type, NO_SUCH_JOB, message) for line in lines
                ]
                continue
            job_results = results[job_number] = []
            for line in lines:
                try:
                    valid = validate(line)
                except FORMAT_ERRORS as error:
                    job_results.append(LineResult(line.code, line.cost_type, "failed", str(error)))
                    continue
                job_results.append(export.line(job_number, valid, given_division=line.division))
        # The import files are written before the ledger: after a crash in between, a line may
        # be written again next run (Sage would overwrite it with the same text) but never lost.
        export.write_files()
        self._save_ledger(ledger)
        return results

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

    def _inbox_divisions(self) -> dict[str, str] | None:
        """Sage's division list as accounting copied it to the inbox, or None without one."""
        path = self.inbox / DIVISIONS_FILE_NAME
        if not path.is_file():
            return None
        try:
            return read_division_file(path.read_bytes())
        except OSError as error:
            raise ErpError(f"Cannot read {path}: {error.strerror}.") from None
        except ErpError as error:
            raise ErpError(f"{DIVISIONS_FILE_NAME}: {error}") from None

    def _known_divisions(self, inbox: CostCodeFileResult | None, ledger: dict) -> set[str] | None:
        """The divisions Sage has, as far as the connector can tell: the inbox division list,
        the divisions of the codes in the inbox list, and those written by earlier runs. None
        when there is neither list: then Sage's divisions cannot be known."""
        listed = self._inbox_divisions()
        if listed is None and inbox is None:
            return None
        known = set(listed or ())
        known.update(code.division for code in (inbox.codes if inbox else []) if code.division)
        known.update(ledger["divisions"])
        return known

    def _jobs_in_inbox(self) -> list[ErpJob] | None:
        """The jobs in jobs.txt, or None when there is no job list to check against."""
        path = self.inbox / JOBS_FILE_NAME
        if not path.is_file():
            return None
        try:
            return read_job_file(path.read_bytes())
        except OSError as error:
            raise ErpError(f"Cannot read {path}: {error.strerror}.") from None
        except ErpError as error:
            raise ErpError(f"{JOBS_FILE_NAME}: {error}") from None

    # -- outbox --------------------------------------------------------------------------

    def run_number_and_time(self, ledger: dict) -> tuple[int, datetime]:
        """This connector's run: the next number in the ledger, taken the first time a file is
        needed."""
        if self._run is None:
            ledger["last_run"] += 1
            self._run = (ledger["last_run"], self.clock())
        return self._run

    def _load_ledger(self) -> dict:
        path = self.outbox / LEDGER_FILE_NAME
        if not path.is_file():
            return _new_ledger()
        try:
            ledger = json.loads(path.read_text(encoding="utf-8"))
            if not {"last_run", "lines", "files"} <= ledger.keys():
                raise ValueError("keys missing")
        except (OSError, ValueError, AttributeError) as error:
            raise ErpError(
                f"The export ledger {path} is damaged ({error}); restore it from a backup so "
                "nothing is exported twice."
            ) from None
        # Ledgers written before divisions and checklists were kept.
        for key, empty in _new_ledger().items():
            ledger.setdefault(key, empty)
        return ledger

    def _save_ledger(self, ledger: dict) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        data = json.dumps(ledger, indent=1, sort_keys=True).encode("utf-8")
        write_atomically(self.outbox / LEDGER_FILE_NAME, data)


def _new_ledger() -> dict:
    return {"last_run": 0, "lines": {}, "files": {}, "divisions": {}, "division_files": {},
            "checklists": {}}
