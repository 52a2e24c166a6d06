"""The ERP settings password, sealed at rest.

A Company Admin types the ERP database's password once on ERP settings; the sync needs it again
at every run, so it cannot be hashed. It is stored sealed (Fernet: AES-128-CBC with an HMAC) under
a key derived from the portal's SECRET_KEY, so a copy of the database alone (a backup, an SQL
dump, someone with read access to the tables) does not give away the accounting system's
password. Whoever holds the SECRET_KEY and the database can still read it: the key must stay off
the database's machine and out of its backups for this to help.

The trade: a portal whose SECRET_KEY changes (or a database restored under another portal's key)
can no longer read the password. The sync then fails with a message that says so, and the
Company Admin types the password again.
"""
from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal.erp.base import ErpError

SEALED_PREFIX = "sealed:"
UNREADABLE = (
    "The password on Company Admin → ERP settings cannot be read with this portal's SECRET_KEY "
    "(the key changed, or the database came from another portal): type the password again "
    "there and Save."
)


class PasswordUnreadable(ErpError):
    pass


def _box(secret_key: str) -> Fernet:
    # Its own key, not SECRET_KEY itself: the session cookies' signatures and this seal never
    # share key material.
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"cost-code-portal", info=b"erp-settings-password"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(password: str, secret_key: str) -> str:
    """What is stored for `password` ("" stays "": no password)."""
    if not password:
        return ""
    return SEALED_PREFIX + _box(secret_key).encrypt(password.encode()).decode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def unseal(stored: str, secret_key: str) -> str:
    """The password from what is stored. A value from before sealing (plain text) is read as it
    is until `portal upgrade` or the next Save seals it."""
    if not is_sealed(stored):
        return stored
    try:
        return _box(secret_key).decrypt(stored[len(SEALED_PREFIX):].encode()).decode()
    except InvalidToken:
        raise PasswordUnreadable(UNREADABLE) from None
