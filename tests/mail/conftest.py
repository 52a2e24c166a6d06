"""A real SMTP server (aiosmtpd) on a loopback port, and the portal configured to use it."""
from __future__ import annotations

import email
import socket
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from tests.helpers import PortalClient, side_paths
from tests.sync.fixtures import erp, seeded_erp_file  # noqa: F401 (fixtures)

REFUSED = "nobody@ridgeline.test"  # the server answers 550 for this address


class Inbox:
    """aiosmtpd's handler: keeps what it received, refuses REFUSED."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802, ANN001
        if address == REFUSED:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"

    def subjects(self, address: str) -> list[str]:
        # Python folds a long Subject right after "Subject:"; unfolded, that leaves a space.
        return [message["Subject"].strip() for message in self.to(address)]

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if address in message["To"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def app(database_url, tmp_path, smtp_server):
    app = create_app(
        TestConfig, SQLALCHEMY_DATABASE_URI=database_url, **side_paths(tmp_path),
        SMTP_URL=f"smtp://127.0.0.1:{smtp_server.port}", MAIL_FROM="Cost Code Portal <portal@ridgeline.test>",
        PORTAL_BASE_URL="https://portal.ridgeline.test/ccp",
    )
    app.test_client_class = PortalClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
