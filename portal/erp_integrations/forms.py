from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.services.approvals import REASON_MAX_LENGTH


class UpdateForm(FlaskForm):
    """Update (approve). The page sends how many lines it showed, so lines added to the request
    since then are not approved unseen; a one-button POST without it approves the request as is."""

    seen_lines = IntegerField(validators=[Optional(), NumberRange(min=0, max=100_000)])
    submit = SubmitField("Update")


NOTHING_TICKED = "Tick at least one request under Ready to Update, then click Update."
# More boxes than a page of rows has is not a form the page sent.
MOST_TICKED = 500


class ApproveSeveralForm(FlaskForm):
    """Update with several rows ticked: the boxes are read from the request (`request`, each
    "request id:lines shown"), since their number varies; the form gives the CSRF check."""


def ticked_requests(values: list[str]) -> list[tuple[int, int]]:
    """The ticked rows as (request id, lines the page showed), each named when malformed."""
    if len(values) > MOST_TICKED:
        raise ValueError(f"{len(values)} requests were ticked; Update takes {MOST_TICKED} at most.")
    choices: dict[int, int] = {}
    for value in values:
        request_id, colon, lines = value.partition(":")
        if not (colon and request_id.isdigit() and lines.isdigit()) or len(value) > 24:
            raise ValueError(f'"{value[:40]}" is not a ticked request of the page; reload it and tick again.')
        choices[int(request_id)] = int(lines)
    return list(choices.items())


class RejectForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[
            DataRequired("Give a reason for the rejection: the project team reads it to fix the request."),
            Length(max=REASON_MAX_LENGTH, message=f"Keep the reason to {REASON_MAX_LENGTH} characters."),
        ],
    )
    submit = SubmitField("Reject")


class ExportCommitmentForm(FlaskForm):
    """Export: names the commitment shown, so a form sent for another one is refused."""

    number = HiddenField(validators=[DataRequired(), Length(max=40)])
    submit = SubmitField("Export")
