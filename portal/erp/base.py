"""The connector interface between the portal's data sync and an ERP.

Every export is idempotent: the sync may repeat a step after a crash or a retry, so a
connector answers "unchanged" for work already done instead of doing it twice.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from portal.erp import formats

# "no_job": the line failed because the ERP has no job of that number (deleted, renamed, never
# created); the Failed to Export row then offers to link the project to another job or create it.
LineOutcome = Literal["created", "merged_cost_type", "description_kept", "unchanged", "failed", "no_job"]
NO_SUCH_JOB: LineOutcome = "no_job"
CommitmentKind = Literal["contract", "change_order"]
CommitmentOutcome = Literal["created", "unchanged", "failed"]


class ErpError(Exception):
    """The ERP as a whole cannot be used: unreachable, unknown company, broken file."""


@dataclass(frozen=True)
class ErpCostType:
    code: str
    name: str


@dataclass(frozen=True)
class ErpDivision:
    """A Sage 100 Contractor cost division (Division#, Description)."""

    number: str
    name: str


@dataclass(frozen=True)
class ErpCostCode:
    code: str
    description: str
    division: str
    # Why the portal cannot use the code as the ERP holds it, when the connector can tell (a
    # Sage 100 Contractor code in a division Sage lacks): the sync lists it as invalid.
    problem: str | None = None


@dataclass(frozen=True)
class ErpJob:
    number: str
    name: str


class ErpJobCostCode(NamedTuple):
    """A cost code on an ERP job, as the ERP holds it (the differences report compares these
    with the project's codes). A named tuple: a sync reads one per code of every linked job."""

    code: str
    description: str
    # The cost types the ERP records for the code on this job, sorted; None when the ERP keeps
    # no cost type per job code (Sage 100 Contractor budget lines), so none can be compared.
    cost_types: tuple[str, ...] | None


class ExportLine(NamedTuple):
    """One approved (cost code, cost type) assignment to put on an ERP job.

    A named tuple, as LineResult: an export makes one of each per line, thousands a sync.
    """

    code: str
    description: str
    cost_type: str
    division: str | None = None


class LineResult(NamedTuple):
    code: str
    cost_type: str
    outcome: LineOutcome
    message: str = ""


@dataclass(frozen=True)
class CommitmentExport:
    """A contract, or a change order to the contract `parent_number`."""

    number: str
    title: str
    kind: CommitmentKind
    amount_cents: int
    parent_number: str | None = None


@dataclass(frozen=True)
class CommitmentResult:
    number: str
    outcome: CommitmentOutcome
    message: str = ""


class ErpConnector(Protocol):
    """What the sync asks of an ERP. Connectors subclass it, which gives them the defaults of
    the optional hooks at the end (a connector overrides them where it can do better)."""

    def fetch_cost_types(self) -> list[ErpCostType]: ...

    def fetch_standard_cost_codes(self) -> list[ErpCostCode]:
        """The company's cost code list as the ERP holds it, unvalidated: the sync checks each
        code with `formats` and reports the bad ones."""
        ...

    def fetch_jobs(self) -> list[ErpJob]: ...

    def create_job(self, number: str, name: str) -> ErpJob:
        """Create the job, or return it as it is when it already exists."""
        ...

    def export_cost_code_lines(self, job_number: str, lines: list[ExportLine]) -> list[LineResult]:
        """One result per line, in order. A bad line fails alone; the rest go on."""
        ...

    def export_commitment(
        self, job_number: str, commitment: CommitmentExport
    ) -> CommitmentResult: ...

    # -- optional hooks, with their defaults ---------------------------------------------------

    # Rows of the last cost code list read that could not even be split into columns, one
    # message each: the sync lists them with the invalid codes. Only a file connector has any.
    last_file_errors: Sequence[str] = ()

    def fetch_divisions(self) -> list[ErpDivision] | None:
        """The ERP's list of divisions, or None when the connector cannot read one (then a
        code's division is taken as the ERP gives it, unchecked)."""
        return None

    def fetch_cost_code_mask(self) -> str | None:
        """The company's cost code mask as the ERP holds it (Sage 300 CRE, e.g. "99-999"), or
        None when the connector cannot read it."""
        return None

    def fetch_job_cost_codes(
        self, job_numbers: Sequence[str]
    ) -> Mapping[str, list[ErpJobCostCode] | ErpError] | None:
        """Each job's cost codes, or the ErpError saying why that job could not be read (no such
        job); None when this connector cannot read a job's codes at all, which the differences
        report says plainly instead of showing "no differences"."""
        return None

    def job_codes_unreadable(self) -> str:
        """Why `fetch_job_cost_codes` gives None, in words for the screen."""
        return "This ERP connector cannot read the cost codes on an ERP job."

    def export_note(self) -> str | None:
        """What an approver must know before approving an update for this ERP (shown on Ready
        to Update), or None when the export does what it says."""
        return None

    def export_job_cost_codes(
        self, lines_by_job: Mapping[str, Sequence[ExportLine]]
    ) -> Mapping[str, list[LineResult] | ErpError]:
        """Several jobs' lines: each job's results, or the ErpError that kept its lines out.

        By default one call per job, so one job the ERP cannot take does not hold back the others.
        A connector that can take every job in one ERP transaction overrides this; an ErpError it
        raises then stands for every job of the call.
        """
        answers: dict[str, list[LineResult] | ErpError] = {}
        for job_number, lines in lines_by_job.items():
            try:
                answers[job_number] = self.export_cost_code_lines(job_number, list(lines))
            except ErpError as error:
                answers[job_number] = error
        return answers


def export_jobs(
    connector: ErpConnector, lines_by_job: Mapping[str, Sequence[ExportLine]]
) -> dict[str, list[LineResult] | ErpError]:
    """Each job's results, or the ErpError that kept its lines from the ERP (an ErpError raised
    by the call as a whole stands for every job: the ERP could not be used)."""
    try:
        return dict(connector.export_job_cost_codes(lines_by_job))
    except ErpError as error:
        return dict.fromkeys(lines_by_job, error)


def export_line_validator(
    erp_system: str, mask: formats.CostCodeMask | None = None
) -> Callable[[ExportLine], ExportLine]:
    """A check that gives a line as the ERP stores it, or raises the `formats` error naming what
    is wrong (a Sage 300 CRE code must fit the company's `mask`, when known). The ERP's rules
    are looked up once: a connector exporting thousands of lines takes this once and asks it of
    each line."""
    is_stored = formats.stored_form_test(erp_system, mask)

    def validate(line: ExportLine) -> ExportLine:
        code, description, cost_type, division = line
        if division is not None and division.strip() == division and is_stored(code, description, cost_type):
            return line
        code = formats.validate_cost_code(erp_system, code, mask)
        division = (division or "").strip()
        return ExportLine(
            code=code,
            description=formats.validate_description(erp_system, description),
            cost_type=formats.validate_cost_type(erp_system, cost_type),
            division=division or formats.division_of(erp_system, code),
        )

    return validate


# Everything the `formats` checks raise for bad input; a connector turns it into a failed line.
FORMAT_ERRORS = (
    formats.CostCodeFormatError,
    formats.CostTypeError,
    formats.DescriptionError,
    formats.JobNumberError,
)
