"""E-mail that tells people when a cost code update waits for them or was decided (issue 17).

`outbox` writes mail into the outgoing_mail table inside the transaction of the event it tells
of (the hooks in approvals, project_cost_codes and sync are one call each); `sending` is the
background worker's side: it turns due rows into messages and hands them to the SMTP server,
never inside a web request.
"""
from portal.services.notifications.outbox import (
    mail_is_on,
    queue_approval_wanted_mail,
    queue_decision_mail,
    queue_export_failed_mail,
    set_approval_mail,
    undelivered_mail,
)
from portal.services.notifications.sending import (
    MailSettings,
    MailSettingsError,
    mail_settings,
    send_due_mail,
)

__all__ = [
    "MailSettings",
    "MailSettingsError",
    "mail_is_on",
    "mail_settings",
    "queue_approval_wanted_mail",
    "queue_decision_mail",
    "queue_export_failed_mail",
    "send_due_mail",
    "set_approval_mail",
    "undelivered_mail",
]
