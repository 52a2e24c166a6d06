"""What one export of the Sage 100 Contractor file connector writes: for each approved line, a
6-5 import row (a new code), a Cost Divisions row (a division Sage lacks) or nothing (a code Sage
has: an import would overwrite it), and always a line of the budget checklist, since Sage
documents no import for job budget lines (6-2 Budgets)."""

from typing import Any

from portal.erp import formats
from portal.erp.base import ExportLine, LineResult
from portal.erp.sage100_import import (
    IMPORT_ENCODING,
    cost_code_row,
    run_file_name,
    unfit_for,
    write_atomically,
    write_import_file,
)
from portal.erp.sage100_inbox import DIVISIONS_FILE_NAME

BUDGETS_WINDOW = "6-2 Budgets"


class RunExport:
    """One export call's decisions for each line, and the files they add up to. `connector`: the
    Sage100FileConnector (its outbox, file type, division names and run number)."""

    def __init__(
        self, connector: Any, ledger: dict, in_sage: dict[str, str],
        known_divisions: set[str] | None,
    ):
        self.connector = connector
        self.ledger = ledger
        self.in_sage = in_sage
        self.known_divisions = known_divisions
        self.file_type = connector.file_type
        self.touched = False

    def line(self, job_number: str, line: ExportLine, given_division: str | None) -> LineResult:
        ledger = self.ledger
        line_key = "\t".join([job_number, line.code, line.cost_type])
        if line_key in ledger["lines"]:
            return LineResult(
                line.code, line.cost_type, "unchanged", f"Already written to {ledger['lines'][line_key]}."
            )
        budget_step = (
            f"add cost code {line.code} with cost type {line.cost_type} to job {job_number}'s "
            f"budget in {BUDGETS_WINDOW} (Sage documents no import for budget lines)"
        )
        if line.code in self.in_sage:
            ledger["lines"][line_key] = "Sage 100 Contractor"
            self._checklist(job_number, line)
            if self.in_sage[line.code] != line.description:
                message = (
                    f'Kept the ERP description "{self.in_sage[line.code]}" (portal had '
                    f'"{line.description}"); to put it on the job, {budget_step}.'
                )
                return LineResult(line.code, line.cost_type, "description_kept", message)
            return LineResult(
                line.code, line.cost_type, "unchanged",
                f"Already in Sage 100 Contractor; to put it on the job, {budget_step}.",
            )
        refusal = self._refusal(line, given_division)
        if refusal is not None:
            return LineResult(line.code, line.cost_type, "failed", refusal)
        self._add_division(line.division)
        codes_file = self._file_name("costcodes")
        rows = ledger["files"].setdefault(codes_file, [])
        if line.code not in {row["code"] for row in rows}:
            rows.append({"code": line.code, "description": line.description, "division": line.division})
        ledger["lines"][line_key] = codes_file
        self._checklist(job_number, line)
        divisions_file = self._file_name("divisions")
        first = (
            f"import {divisions_file} in the Cost Divisions window first, then "
            if divisions_file in ledger["division_files"] else ""
        )
        message = (
            f"Written to {codes_file}: {first}import it in 6-5 Cost Codes (File > Open), "
            f"then {budget_step}."
        )
        return LineResult(line.code, line.cost_type, "created", message)

    def _refusal(self, line: ExportLine, given_division: str | None) -> str | None:
        """Why the new code cannot go into an import file; None when it can."""
        code = line.code
        for text in (line.description, line.division or ""):
            unfit = unfit_for(text, self.file_type)
            if unfit is not None:
                return (
                    f'Cost code "{code}": "{formats.shown(text)}" has {unfit}; choose another import '
                    "file type in Company Admin or change the text."
                )
        if not (given_division or "").strip():
            return (
                f'Cost code "{code}" has no division; Sage 100 Contractor requires one (6-5: Cost '
                "Code#, Description and Division)."
            )
        division = line.division
        name = self.connector.division_names.get(division)
        if name is not None:
            unfit = unfit_for(name, self.file_type)
            if unfit is not None and (self.known_divisions is None or division not in self.known_divisions):
                return (
                    f'Cost code "{code}": the name of its division {formats.shown(division)}, '
                    f'"{formats.shown(name)}", has {unfit}; add the division in Sage first.'
                )
            return None  # a division Sage may lack goes into the divisions file
        if self.known_divisions is not None and division not in self.known_divisions:
            return (
                f'Cost code "{code}" is in division {formats.shown(division)}, which Sage 100 '
                f"Contractor does not have (not in {DIVISIONS_FILE_NAME} nor the cost code list); "
                "add the division in 6-5 Cost Codes > Cost Divisions, then sync again."
            )
        if self.known_divisions is None:
            return (
                f'Cost code "{code}": Sage 100 Contractor\'s division list is not in the inbox '
                f"({DIVISIONS_FILE_NAME}) and the portal has no name for division "
                f"{formats.shown(division)}, so no divisions file can be written for it."
            )
        return None

    def _add_division(self, division: str) -> None:
        """A division Sage does not have (or, with no list, may not have) goes into the run's
        divisions file, with the portal's name for it."""
        if self.known_divisions is not None and division in self.known_divisions:
            return
        if division in self.ledger["divisions"]:
            return
        name = self.connector.division_names[division]
        divisions_file = self._file_name("divisions")
        self.ledger["division_files"].setdefault(divisions_file, []).append([division, name])
        self.ledger["divisions"][division] = divisions_file

    def _checklist(self, job_number: str, line: ExportLine) -> None:
        checklist = self._file_name("budget-lines", "txt")
        self.ledger["checklists"].setdefault(checklist, []).append([job_number, line.code, line.cost_type])

    def _file_name(self, kind: str, extension: str | None = None) -> str:
        self.touched = True
        run_number, when = self.connector.run_number_and_time(self.ledger)
        return run_file_name(kind, run_number, when, extension or self.file_type)

    def write_files(self) -> None:
        """This run's files: divisions first (Sage: "You must import cost codes separately and
        after you have imported cost divisions"), then the codes, then the checklist."""
        if not self.touched:
            return
        outbox = self.connector.outbox
        divisions_file = self._file_name("divisions")
        if divisions_file in self.ledger["division_files"]:
            write_import_file(
                outbox / divisions_file, self.ledger["division_files"][divisions_file], self.file_type
            )
        codes_file = self._file_name("costcodes")
        if codes_file in self.ledger["files"]:
            rows = [
                cost_code_row(row["code"], row["description"], row["division"])
                for row in self.ledger["files"][codes_file]
            ]
            write_import_file(outbox / codes_file, rows, self.file_type)
        checklist = self._file_name("budget-lines", "txt")
        if checklist in self.ledger["checklists"]:
            text = [
                f"NOT a Sage import file. Sage 100 Contractor documents no import for job budget "
                f"lines: enter each line below in {BUDGETS_WINDOW} by hand.\r\n",
                "Job\tCost Code#\tCost Type\r\n",
            ]
            text += ["\t".join(entry) + "\r\n" for entry in self.ledger["checklists"][checklist]]
            (outbox / checklist).parent.mkdir(parents=True, exist_ok=True)
            write_atomically(outbox / checklist, "".join(text).encode(IMPORT_ENCODING, "replace"))
