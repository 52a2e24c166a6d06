"""The background worker's side of mail: due rows become messages for the SMTP server.

Each message is claimed before it is sent (its due time moves a lease ahead), so two workers
never send the same one; it is marked sent in its own transaction right after the server took
it. A server that is down, busy or refuses the portal itself is tried again, further apart
each time, up to MAX_ATTEMPTS; a recipient or message the server refuses for good (5xx), or
running out of attempts, makes the mail undeliverable, which Company Admin → Undelivered Mail
lists.
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from portal.models import OutgoingMail, User, utcnow
from portal.services import transaction
from portal.services.notifications.messages import LinkFor, digest_message, single_message

MAX_ATTEMPTS = 12  # 1, 2, 4 … 60 minutes apart: about seven hours of a mail server down
LEASE = timedelta(minutes=10)
BATCH = 200


class MailSettingsError(ValueError):
    """A mail setting the portal cannot use; the message names it."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    sender: str
    tls: bool = False  # smtps://: TLS from the first byte
    starttls: bool = False
    username: str = ""
    password: str = ""
    ca_file: str = ""  # the CA of a mail server whose certificate the system does not trust
    timeout: float = 10.0


def mail_settings(config: Mapping[str, Any]) -> MailSettings | None:
    """From SMTP_URL (smtp://user:pass@host:port, smtps://…, ?starttls=1) and MAIL_FROM; None
    when either is unset: then nothing is queued or sent."""
    url, sender = config.get("SMTP_URL") or "", config.get("MAIL_FROM") or ""
    if not url or not sender:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        # Not echoed: the URL may hold the mail server's password.
        raise MailSettingsError("SMTP_URL must look like smtp://user:password@host:port (or smtps://).")
    starttls = parse_qs(parts.query).get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587 if starttls else 25)
    except ValueError as error:
        raise MailSettingsError(f"SMTP_URL: {error}.")
    return MailSettings(
        host=parts.hostname, port=port, sender=sender, tls=parts.scheme == "smtps", starttls=starttls,
        username=unquote(parts.username or ""), password=unquote(parts.password or ""),
        ca_file=config.get("SMTP_CA_FILE") or "",
    )


@contextmanager
def smtp_connection(settings: MailSettings) -> Iterator[smtplib.SMTP]:
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    if settings.tls:
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        server = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.starttls:
            server.starttls(context=context)
        if settings.username:
            server.login(settings.username, settings.password)
        yield server
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()


def _is_permanent(error: Exception) -> bool:
    """Only the recipient or the message can be refused for good; anything about the server
    or the portal's account there (down, busy, a wrong password, a refused From) may be fixed
    by the next try, and its mail must not be given up at the first."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in error.recipients.values())
    return isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500


def _due_messages(session: Session, now: datetime) -> list[list[OutgoingMail]]:
    """Due mail, grouped as it is sent: one message per event, one digest per recipient."""
    due = session.scalars(
        select(OutgoingMail)
        .where(OutgoingMail.state == "queued", OutgoingMail.next_attempt_at <= now)
        .options(joinedload(OutgoingMail.recipient), joinedload(OutgoingMail.project))
        .order_by(OutgoingMail.id)
        .limit(BATCH)
    ).all()
    digests: dict[int, list[OutgoingMail]] = {}
    messages: list[list[OutgoingMail]] = []
    for mail in due:
        if mail.digest:
            digests.setdefault(mail.recipient_id, []).append(mail)
        else:
            messages.append([mail])
    return messages + list(digests.values())


class _TakenByAnotherWorker(Exception):
    pass


def _claim(session: Session, ids: list[int], now: datetime) -> bool:
    try:
        with transaction(session):
            claimed = session.execute(
                update(OutgoingMail)
                .where(
                    OutgoingMail.id.in_(ids), OutgoingMail.state == "queued",
                    OutgoingMail.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + LEASE)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != len(ids):
                raise _TakenByAnotherWorker
    except _TakenByAnotherWorker:
        return False
    return True


def _settle(session: Session, ids: list[int], now: datetime, error: Exception | None) -> None:
    with transaction(session):
        for mail in session.scalars(select(OutgoingMail).where(OutgoingMail.id.in_(ids))):
            mail.attempts += 1
            if error is None:
                mail.state, mail.sent_at, mail.last_error = "sent", now, None
                continue
            mail.last_error = f"{type(error).__name__}: {error}"[:500]
            if _is_permanent(error) or mail.attempts >= MAX_ATTEMPTS:
                mail.state = "undeliverable"
            else:
                mail.next_attempt_at = now + timedelta(minutes=min(60, 2 ** (mail.attempts - 1)))


def send_due_mail(
    session: Session, settings: MailSettings | None, link_for: LinkFor,
    now: datetime | None = None, connect: Callable[[MailSettings], Any] = smtp_connection,
) -> int:
    """Send every due mail; returns how many messages the server took."""
    if settings is None:
        return 0
    now = now or utcnow()
    groups = [[mail.id for mail in group] for group in _due_messages(session, now)]
    session.commit()  # no transaction held while the mail server answers
    sent = 0
    server_context = None
    server = None
    down: Exception | None = None  # once the server is down, the rest count an attempt too
    try:
        for ids in groups:
            if not _claim(session, ids, now):
                continue
            if down is not None:
                _settle(session, ids, now, down)
                continue
            mails = session.scalars(
                select(OutgoingMail).where(OutgoingMail.id.in_(ids))
                .options(joinedload(OutgoingMail.recipient).joinedload(User.company),
                         joinedload(OutgoingMail.project))
                .order_by(OutgoingMail.id)
            ).all()
            message = _message(settings, mails, link_for)
            session.commit()
            try:
                if server is None:
                    server_context = connect(settings)
                    server = server_context.__enter__()
                server.send_message(message)
            except (smtplib.SMTPException, OSError) as error:
                _settle(session, ids, now, error)
                if not _is_permanent(error):
                    down = error
                continue
            _settle(session, ids, now, None)
            sent += 1
    finally:
        if server_context is not None:
            server_context.__exit__(None, None, None)
    return sent


def _message(settings: MailSettings, mails: list[OutgoingMail], link_for: LinkFor) -> EmailMessage:
    recipient = mails[0].recipient
    subject, body = digest_message(mails, link_for) if mails[0].digest else single_message(mails[0], link_for)
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = formataddr((recipient.name, recipient.email))
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    message.set_content(body)
    return message
