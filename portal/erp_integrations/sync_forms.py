"""Forms of the Sync tab and of the Ready to Import / Ready to Export actions."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from portal.web.input import MAX_ROW_ID

# An id is a positive 64-bit number: anything else is no ERP job, refused before a query.
ERP_JOB_ID = NumberRange(min=1, max=MAX_ROW_ID, message="That is not an ERP job of this company.")

# The <select>s are written in the templates (wtforms 3.3 deprecates tuple choices); the
# services check that the chosen value exists and name it when it does not.


class ScheduleForm(FlaskForm):
    schedule = StringField("Sync schedule", validators=[DataRequired(), Length(max=10)])
    submit = SubmitField("Save schedule")


class SyncNowForm(FlaskForm):
    # The company the page was shown for: a form from another session's company is refused.
    company = HiddenField(validators=[DataRequired()])
    submit = SubmitField("Sync Now")


class ErpJobActionForm(FlaskForm):
    """Add / hide an ERP job under Ready to Import."""

    erp_job_id = IntegerField(widget=HiddenInput(), validators=[InputRequired(), ERP_JOB_ID])


class ProjectActionForm(FlaskForm):
    """Accept a project under Ready to Export; the number guards against a stale or tampered form."""

    project_number = HiddenField(validators=[DataRequired()])


class RejectExportForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=500)])
    submit = SubmitField("Reject")


class LinkErpJobForm(FlaskForm):
    erp_job_id = IntegerField("ERP job", validators=[InputRequired(), ERP_JOB_ID])
    submit = SubmitField("Link")


class LinkProjectForm(FlaskForm):
    """Ready to Import: link the ERP job to a project that has no ERP job yet."""

    project_id = IntegerField("Project", validators=[InputRequired()])
    submit = SubmitField("Link")
