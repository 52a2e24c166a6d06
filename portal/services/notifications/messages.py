"""What each mail says. Every mail names the project and links straight to it."""
from __future__ import annotations

from collections.abc import Callable

from portal.models import OutgoingMail

# (endpoint, URL values) -> absolute URL under PORTAL_BASE_URL; built by the worker's app.
LinkFor = Callable[..., str]


def _link(mail: OutgoingMail, link_for: LinkFor) -> str:
    if mail.kind == "approval_wanted":
        return link_for("erp_integrations.requested_updates", request_id=mail.request_id)
    return link_for("project_admin.cost_codes", project_id=mail.project_id)


def _notifications_footer(link_for: LinkFor) -> str:
    return (
        "\n--\nYou get this e-mail because you approve cost code updates. "
        f"Choose at once, a daily digest or none on Account → Notifications: "
        f"{link_for('notifications.settings')}\n"
    )


def single_message(mail: OutgoingMail, link_for: LinkFor) -> tuple[str, str]:
    project = mail.project.label
    link = _link(mail, link_for)
    if mail.kind == "approval_wanted":
        return (
            f"Cost code update of {project} waits for your approval",
            f"{mail.actor_name} sent cost code updates of {project} to the ERP; "
            f"they wait for approval.\n\nReview them: {link}\n" + _notifications_footer(link_for),
        )
    if mail.kind == "approved":
        return (
            f"Your cost code update of {project} was approved",
            f"{mail.actor_name} approved the cost code update of {project}. The codes go to the "
            f"ERP job at the next data sync.\n\nThe project's cost codes: {link}\n",
        )
    if mail.kind == "rejected":
        return (
            f"Your cost code update of {project} was rejected",
            f"{mail.actor_name} rejected the cost code update of {project}.\n\n"
            f"Reason: {mail.detail}\n\nFix the codes and send them again: {link}\n",
        )
    return (
        f"Your cost code update of {project} failed to export",
        f"The cost code update of {project} was approved but failed to export to the ERP.\n\n"
        f"Error: {mail.detail}\n\nThe project's cost codes: {link}\n",
    )


def digest_message(mails: list[OutgoingMail], link_for: LinkFor) -> tuple[str, str]:
    projects = sorted({mail.project.label for mail in mails})
    lines = [
        f"- {mail.project.label}, sent by {mail.actor_name}: {_link(mail, link_for)}" for mail in mails
    ]
    count = len(projects)
    return (
        f"Cost code updates waiting for your approval: {count} project{'s' if count != 1 else ''}",
        "These cost code updates wait for approval:\n\n" + "\n".join(lines) + "\n"
        + _notifications_footer(link_for),
    )
