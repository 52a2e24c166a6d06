"""The import files Sage 100 Contractor's 6-5 Cost Codes window opens (File > Open), as its help
documents them (help 19.2 and 21.2, "Importing cost codes", "Importing cost divisions"):
https://help-sage100contractor.na.sage.com/Sage100Contractor/US/21_2/Content/Modules/6-Project_Management/Importing_cost_codes.htm
https://sage100contractorhelp.sagecre.com/help/Sage100Contractor/US/19_2/Content/Modules/6-Project_Management/Importing_cost_divisions.htm
"""

import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

# "Arrange the data in the following order: Cost Code#, Description, Unit, Division, Comp Code1,
# Wage Max, Comp Code2, and Department." (help 21.2, "Importing cost codes"). The help names no
# header row, so none is written: a header would be read as a cost code.
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
# "Arrange the data in the following order: Division# and Description." "You must import cost
# codes separately and after you have imported cost divisions." (help 19.2, "Importing cost
# divisions")
DIVISION_COLUMNS = ["Division#", "Description"]
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


def format_row(cells: Sequence[str], file_type: str) -> str:
    """One row of an import file of the type, with its CRLF. Cells must already be fit for it
    (see `unfit_for`)."""
    if file_type == "tab":
        return "\t".join(cells) + "\r\n"
    if file_type == "cma":
        return ",".join(cells) + "\r\n"
    return ",".join(f'"{cell}"' for cell in cells) + "\r\n"


def unfit_for(text: str, file_type: str) -> str | None:
    """Why the text cannot be a cell of an import file of the type; None when it can. Sage's
    help says nothing of quoting, so a separator inside a cell is refused, not escaped."""
    if file_type == "cma" and ('"' in text or "," in text):
        return "a comma or a quotation mark, which a comma delimited (.cma) file cannot hold"
    if file_type == "qte" and '"' in text:
        return "a quotation mark, which a comma-quote (.qte) file cannot hold"
    try:
        text.encode(IMPORT_ENCODING)
    except UnicodeEncodeError:
        return "characters that a Sage 100 Contractor import file (Windows-1252) cannot hold"
    return None


def write_import_file(path: Path, rows: Sequence[Sequence[str]], file_type: str) -> Path:
    """The rows as an import file; it appears complete or not at all (temp file + rename), so
    accounting never opens a half-written import."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(format_row(row, file_type) for row in rows)
    write_atomically(path, text.encode(IMPORT_ENCODING))
    return path


def cost_code_row(code: str, description: str, division: str) -> list[str]:
    """A 6-5 import row: Cost Code#, Description, Division; Unit and the rest left empty."""
    return [code, description, "", division, "", "", "", ""]


def run_file_name(kind: str, run_number: int, when: datetime, file_type: str) -> str:
    return f"{kind}-{when:%Y%m%d}-{run_number:04d}.{file_type}"


def write_atomically(path: Path, data: bytes) -> None:
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
