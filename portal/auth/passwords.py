from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(password: str, method: str | None = None) -> str:
    return generate_password_hash(password, method=method or current_app.config["PASSWORD_HASH_METHOD"])


def password_matches(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)
