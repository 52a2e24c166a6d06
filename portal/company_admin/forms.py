"""Company Admin forms. Choice values are the level numbers; labels are the level names."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from portal.erp.formats import MASK_CHARACTER
from portal.erp.sage100_import import FILE_TYPES
from portal.models import Level
from portal.services.audit_log import AuditFilter, AuditFilterChoices
from portal.web.input import MAX_ROW_ID

LEVEL_CHOICES = [SelectChoice(str(int(level)), level.label) for level in Level]


def _level_field(label: str) -> SelectField:
    # Not marked `required` in the page: HTML allows that only on a select whose first option is
    # an empty placeholder, and here the first option, None, is a level like the others. The
    # server still refuses a missing value.
    return SelectField(
        label, choices=LEVEL_CHOICES, coerce=int, validators=[InputRequired()],
        render_kw={"required": False},
    )


class AddUserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Initial password", validators=[DataRequired(), Length(max=200)],
        description="At least 8 characters. Give it to the user in person.",
    )
    erp_integrations_level = _level_field("ERP Integrations")
    company_admin_level = _level_field("Company Admin")
    submit = SubmitField("Add user")


class ToolLevelsForm(FlaskForm):
    erp_integrations_level = _level_field("ERP Integrations")
    company_admin_level = _level_field("Company Admin")
    submit = SubmitField("Save tool levels")


# The one-button switches carry what the button means, so an empty or replayed-empty post
# changes nothing instead of flipping a state.
class PrivilegeForm(FlaskForm):
    granted = HiddenField(validators=[AnyOf(("yes", "no"))])


class UserStatusForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(("yes", "no"))])


class ArchiveForm(FlaskForm):
    archived = HiddenField(validators=[AnyOf(("yes", "no"))])


class CostCodeMaskForm(FlaskForm):
    mask = StringField(
        "Cost code mask", validators=[Length(max=40)],
        description=(
            f"One {MASK_CHARACTER} per character of each section, with the punctuation between "
            "sections, as in Sage 300 CRE's Job Cost settings: 99-999 for codes like 03-100. "
            "Leave empty if not known."
        ),
    )
    submit = SubmitField("Save mask")


class Sage100FileTypeForm(FlaskForm):
    file_type = SelectField(
        "Import file type", choices=[SelectChoice(key, label) for key, label in FILE_TYPES.items()],
        validators=[InputRequired()],
        # Every choice is a file type, so nothing is left to require in the browser (a required
        # select must start with an empty choice); the server still refuses a missing value.
        render_kw={"required": False},
        description="The file type the 6-5 Cost Codes import (File > Open) reads.",
    )
    submit = SubmitField("Save file type")


class ProjectLevelsForm(FlaskForm):
    """One select per project, named `project-<id>`; built from the posted names."""

    submit = SubmitField("Save project levels")

    def project_levels(self, formdata: MultiDict) -> dict[int, Level]:
        """The posted levels by project id; ValueError names the field when one is not a level."""
        levels: dict[int, Level] = {}
        for name, value in formdata.items():
            if not name.startswith("project-"):
                continue
            try:
                project_id = int(name.removeprefix("project-"))
                levels[project_id] = Level(int(value))
            except ValueError:
                raise ValueError(f'"{value[:40]}" is not a permission level for project field {name[:40]}.')
            if not 0 < project_id <= MAX_ROW_ID:
                raise ValueError(f"{name[:40]} is not a project of your company; nothing was changed.")
        if not levels:
            raise ValueError("No project levels were sent; nothing was changed.")
        return levels


def _parse_date(value: str, label: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        errors.append(f'{label} date "{value[:40]}" is not a date; use the form YYYY-MM-DD.')
        return None
    if parsed >= date.max:  # the filter reads up to the end of the To date: the next day must exist
        errors.append(f'{label} date "{value[:40]}" is too far in the future.')
        return None
    return parsed


def _parse_choice(value: str, choices: list, label: str, errors: list[str]):
    if not value:
        return None
    known = {str(key): key for key, _ in choices}
    if value not in known:
        errors.append(f'{label} "{value[:40]}" is not one of the choices.')
        return None
    return known[value]


def audit_filter_from(args: MultiDict, choices: AuditFilterChoices) -> tuple[AuditFilter, list[str]]:
    """The Audit Log filter from the query string, and a message for each bad value."""
    errors: list[str] = []
    date_from = _parse_date(args.get("from", "").strip(), "From", errors)
    date_to = _parse_date(args.get("to", "").strip(), "To", errors)
    if date_from and date_to and date_from > date_to:
        errors.append(f"The From date {date_from} is after the To date {date_to}.")
    audit_filter = AuditFilter(
        actor_id=_parse_choice(args.get("user", ""), choices.users, "User", errors),
        action=_parse_choice(args.get("action", ""), choices.actions, "Action", errors),
        project_id=_parse_choice(args.get("project", ""), choices.projects, "Project", errors),
        date_from=date_from,
        date_to=date_to,
    )
    return audit_filter, errors
