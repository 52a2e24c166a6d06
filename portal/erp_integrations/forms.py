from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.services.approvals import REASON_MAX_LENGTH


class UpdateForm(FlaskForm):
    """Update (approve). The page sends how many lines it showed, so lines added to the request
    since then are not approved unseen; a one-button POST without it approves the request as is."""

    seen_lines = IntegerField(validators=[Optional(), NumberRange(min=0, max=100_000)])
    submit = SubmitField("Update")


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
