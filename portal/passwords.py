"""Password hashing, free of the web framework: the caller passes the hash method it is configured
with (the app's PASSWORD_HASH_METHOD), so services and scripts can hash without an app."""
from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(password: str, method: str) -> str:
    """`method` as werkzeug names it, e.g. "scrypt:131072:8:1" (scrypt with N=2**17, r=8, p=1)."""
    return generate_password_hash(password, method=method)


def password_matches(password_hash: str, password: str) -> bool:
    """Whatever method `password_hash` was made with: it is written at the hash's start."""
    return check_password_hash(password_hash, password)
