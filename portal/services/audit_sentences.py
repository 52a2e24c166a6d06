"""Audit events in words: what was done, as a sentence, and its details as sentences.

The one mapping from an event's action key (stored, filtered on) to what a person reads. An
action recorded anywhere in the portal has a sentence here; tests/test_audit_sentences.py
finds every `action="…"` in portal/ and fails on one without a sentence.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# "{object}" is the event's object label (a project, a user, a code) as it was when recorded.
ACTION_SENTENCES: dict[str, str] = {
    "commitment.export": "Exported {object} to the ERP",
    "commitment.export_failed": "Could not export {object} to the ERP",
    "commitment.export_request": "Asked to export {object} at the next sync",
    "company.cost_code_mask": "Set the Sage 300 CRE cost code mask of {object}",
    "company.create": "Created the company {object}",
    "company.refresh_all_projects": "Refreshed the cost codes of every project of {object}",
    "company.sage100_file_type": "Chose the Sage 100 Contractor import file type of {object}",
    "company.set_time_zone": "Set the company's time zone",
    "cost_code_request.export_failed": "Could not export {object}",
    "cost_code_request.export": "Exported {object}",
    "cost_code_update.approve": "Approved the cost code update for {object}",
    "cost_code_update.reject": "Rejected the cost code update for {object}",
    "cost_code_update.request": "Sent the cost codes of {object} for approval",
    "demo.seed": "Loaded the demo data for {object}",
    "erp_job.create": "Created the ERP job of {object}",
    "erp_difference.add_to_project": "Added {object} to its project from the ERP job",
    "erp_differences.compare": "Compared the projects with their ERP jobs (Compare now)",
    "erp_settings.save": "Changed the ERP settings of {object}",
    "erp_settings.test_connection": "Tested the ERP connection of {object}",
    "erp_job.hide": "Hid the ERP job {object} from Ready to Import",
    "erp_job.import": "Added {object} from its ERP job",
    "project.export_accept": "Accepted {object} for export to the ERP",
    "project.export_reject": "Declined to export {object} to the ERP",
    "export.retry": "Retried the export of {object}",
    "project.create_erp_job": "Asked the next sync to create the ERP job of {object}",
    "project.link_erp_job": "Linked {object} to an ERP job",
    "project.refresh_cost_codes": "Refreshed the cost codes of {object}",
    "project.refresh_cost_codes.fail": "Could not refresh the cost codes of {object}",
    "project.refresh_cost_codes.start": "Started refreshing the cost codes of {object}",
    "project_cost_code.add_cost_type": "Added cost types to {object}",
    "project_cost_code.activate": "Made {object} active on its project again",
    "project_cost_code.add_from_company": "Added cost codes from the company list to {object}",
    "project_cost_code.deactivate": "Made {object} inactive on its project (the ERP keeps it)",
    "project_cost_code.remove": "Removed {object}, which had not been sent, from its project",
    "project_cost_code.remove_cost_type": "Removed a cost type from {object}",
    "standard_cost_code.archive": "Archived the standard cost code {object}",
    "standard_cost_code.unarchive": "Unarchived the standard cost code {object}",
    "sync.abandon": "{object} stopped without finishing",
    "sync.request": "Started {object} with Sync Now",
    "sync.run": "{object} finished",
    "sync.schedule": "Changed the sync schedule of {object}",
    "user.change_password": "Changed the password of {object}",
    "user.create": "Added the user {object}",
    "user.deactivate": "Deactivated {object}",
    "user.directory_disabled": "Ended the sessions of {object}, whom the company directory disabled",
    "user.directory_groups": "Changed the access of {object} from their directory groups",
    "user.grant_privilege": "Granted a privilege to {object}",
    "user.login": "Logged in as {object}",
    "user.logout": "Logged out ({object})",
    "user.reactivate": "Reactivated {object}",
    "user.reset_password": "Reset the password of {object}",
    "user.revoke_privilege": "Revoked a privilege of {object}",
    "user.set_approval_mail": "Changed which e-mails {object} gets",
    "user.set_project_level": "Changed a project level of {object}",
    "user.set_tool_level": "Changed a tool level of {object}",
}

# Detail keys in words; a key not listed is shown with its underscores as spaces.
DETAIL_LABELS = {
    "added": "Added", "skipped": "Already on the project", "refused": "Not added",
    "codes": "Codes", "cost_types": "Cost types", "cost_type": "Cost type",
    "erp_job": "ERP job", "erp_job_name": "ERP job name", "sync_run": "Sync run",
    "outcomes": "Outcomes", "outcome": "Outcome", "error": "Error", "message": "Message",
    "job": "Refresh job", "batch": "Batch", "projects": "Projects", "trigger": "Started by",
    "status": "Result", "counts": "Counts", "invalid_codes": "Invalid codes", "errors": "Problems",
    "difference": "Difference", "not_added": "Not one of the company's cost types", "jobs": "ERP jobs read",
    "differences": "Differences found", "failure": "Could not read the ERP", "unreadable": "Not compared",
}


def action_sentence(action: str, object_label: str = "") -> str:
    """"Approved the cost code update for RB-2402 Cedar Ridge Elementary"."""
    sentence = ACTION_SENTENCES.get(action)
    if sentence is None:  # an event of an older or newer version: its key, readable
        return f"{action.replace('_', ' ').replace('.', ': ')} {object_label}".strip()
    return sentence.format(object=object_label or "—")


def action_label(action: str) -> str:
    """The action in the Audit Log's filter list: its sentence with "…" for the object."""
    return action_sentence(action, "…")


def _words(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Mapping):
        if {"item", "message"} <= set(value):  # a sync problem
            return f"{value['item']}: {value['message']}" if value.get("item") else str(value["message"])
        return ", ".join(f"{_words(inner)} {str(key).replace('_', ' ')}" for key, inner in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(_words(item) for item in value)
    return str(value)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."


def describe_details(details: Mapping[str, Any] | None) -> str:
    """Details as sentences: "Can Push to Accounting changed from No to Yes. 4 lines."."""
    details = dict(details or {})
    sentences = []
    if "before" in details and "after" in details:
        subject = details.pop("tool", None) or details.pop("privilege", None)
        project = details.pop("project", None)
        if subject and project:
            subject = f"{subject} level on {project}"
        change = f"changed from {details.pop('before')} to {details.pop('after')}"
        sentences.append(f"{subject} {change}." if subject else f"{change.capitalize()}.")
    if "from" in details and "to" in details:
        sentences.append(f"Changed from {details.pop('from')} to {details.pop('to')}.")
    if "lines" in details:
        lines = details.pop("lines")
        sentences.append(f"{lines} line{'' if lines == 1 else 's'}.")
    if "reason" in details:
        reason = str(details.pop("reason")).strip()
        sentences.append(f"Reason: “{reason}”" + ("" if reason.endswith((".", "!", "?", "…")) else "."))
    for key, value in details.items():
        if value in (None, "", [], {}):
            continue
        label = DETAIL_LABELS.get(key, key.replace("_", " ").capitalize())
        sentences.append(_sentence(f"{label}: {_words(value)}"))
    return " ".join(sentences)
