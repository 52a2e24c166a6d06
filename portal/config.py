"""Settings come from the environment (and a `.env` file), never from code defaults for secrets."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

load_dotenv()

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("PORTAL_INSTANCE_DIR", PROJECT_ROOT / "instance"))


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_secret_key(instance_dir: Path = INSTANCE_DIR) -> str:
    """A per-installation secret kept in instance/ with mode 0600.

    There is deliberately no default key in the code: a key everyone can read on
    GitHub would let anyone forge sessions on every intranet running the portal.
    """
    instance_dir.mkdir(parents=True, exist_ok=True)
    key_file = instance_dir / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    os.chmod(key_file, 0o600)
    return key_file.read_text().strip()


class Config:
    INSTANCE_DIR = INSTANCE_DIR
    SECRET_KEY = os.environ.get("SECRET_KEY")  # filled from instance/ by create_app when unset
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'portal.sqlite'}"
    )
    ERP_DATABASE_URL = os.environ.get("ERP_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'erp.sqlite'}")
    # Until a Company Admin chooses on ERP settings: "reference" (default), "sage100_database",
    # "sage100_files", "sage300_odbc", or per company: "ridgeline=sage100_files,other=reference".
    ERP_CONNECTOR = os.environ.get("ERP_CONNECTOR", "reference")
    SAGE100_INBOX_DIR = os.environ.get("SAGE100_INBOX_DIR", str(INSTANCE_DIR / "sage100" / "inbox"))
    SAGE100_OUTBOX_DIR = os.environ.get("SAGE100_OUTBOX_DIR", str(INSTANCE_DIR / "sage100" / "outbox"))
    SAGE300_ODBC_DSN = os.environ.get("SAGE300_ODBC_DSN", "")
    SAGE300_ODBC_USER = os.environ.get("SAGE300_ODBC_USER", "")
    SAGE300_ODBC_PASSWORD = os.environ.get("SAGE300_ODBC_PASSWORD", "")
    REDIS_URL = os.environ.get("REDIS_URL")
    # The background queue's name: two portals sharing one Redis need two names.
    HUEY_NAME = os.environ.get("HUEY_NAME", "cost-code-portal")
    HUEY_IMMEDIATE = _flag("HUEY_IMMEDIATE")
    HUEY_SQLITE_PATH = os.environ.get("HUEY_SQLITE_PATH", str(INSTANCE_DIR / "huey.sqlite"))
    # Slows each refresh step down so a person (or a browser test) can watch the banner.
    REFRESH_STEP_DELAY = float(os.environ.get("REFRESH_STEP_DELAY", "0"))

    # "text" (one readable line per record) or "json" (one JSON object per line, for a log tool)
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").strip().lower()

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Absolute lifetime: counted from login, not refreshed by activity.
    SESSION_LIFETIME = timedelta(hours=12)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # So the cookie is not re-signed and re-sent with every page either: only when the session
    # changes (log-in, a flashed message, log-out).
    SESSION_REFRESH_EACH_REQUEST = False
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None  # the session's own 12 h limit bounds the token
    PASSWORD_HASH_METHOD = "scrypt:131072:8:1"  # noqa: S105 (a method name, not a password)
    MIN_PASSWORD_LENGTH = 8
    # Failed log-ins (portal/auth/throttle.py): per account from one address, per address
    # whatever the account, and a higher ceiling per account from every address together.
    LOGIN_FAILURE_LIMIT = "10 per 15 minutes"
    LOGIN_ADDRESS_FAILURE_LIMIT = "20 per 15 minutes"
    LOGIN_ACCOUNT_FAILURE_LIMIT = "50 per 15 minutes"
    # Password checks running at once per server process (each keeps a processor busy for
    # most of a second); a log-in beyond them is asked to try again in a moment.
    LOGIN_CONCURRENT_CHECKS = int(os.environ.get("LOGIN_CONCURRENT_CHECKS", "2"))
    # The throttle's refund (a failure that was not) needs counters, as fixed windows keep.
    RATELIMIT_STRATEGY = "fixed-window"
    # How many reverse proxies in front of the portal add X-Forwarded-For / -Proto: the client's
    # address is taken that many hops back. 0 (default): the header is ignored, as anyone can send it.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    PAGE_SIZE = 50

    # Directory sign-in (LDAP / Active Directory): off unless LDAP_URL is set. See README.
    LDAP_URL = os.environ.get("LDAP_URL", "")
    LDAP_ALLOW_PLAIN = _flag("LDAP_ALLOW_PLAIN")
    LDAP_CA_FILE = os.environ.get("LDAP_CA_FILE", "")
    LDAP_TIMEOUT = float(os.environ.get("LDAP_TIMEOUT", "5"))
    LDAP_BIND_DN = os.environ.get("LDAP_BIND_DN", "")
    LDAP_BIND_PASSWORD = os.environ.get("LDAP_BIND_PASSWORD", "")
    LDAP_BASE_DN = os.environ.get("LDAP_BASE_DN", "")
    LDAP_USER_FILTER = os.environ.get("LDAP_USER_FILTER", "(|(uid={name})(mail={name}))")
    LDAP_DN_TEMPLATE = os.environ.get("LDAP_DN_TEMPLATE", "")
    LDAP_UID_ATTRIBUTE = os.environ.get("LDAP_UID_ATTRIBUTE", "uid")
    LDAP_DISABLED_FILTER = os.environ.get(
        "LDAP_DISABLED_FILTER", "(userAccountControl:1.2.840.113556.1.4.803:=2)"
    )
    LDAP_GROUP_BASE_DN = os.environ.get("LDAP_GROUP_BASE_DN", "")
    LDAP_GROUP_MAP = os.environ.get("LDAP_GROUP_MAP", "")
    LDAP_COMPANY = os.environ.get("LDAP_COMPANY", "")
    # Sign-in by a reverse proxy that already did Windows sign-in: the header, and the only
    # addresses (comma-separated IPs or networks) it is believed from.
    REMOTE_USER_HEADER = os.environ.get("REMOTE_USER_HEADER", "")
    REMOTE_USER_PROXIES = os.environ.get("REMOTE_USER_PROXIES", "")

    # E-mail: off unless SMTP_URL and MAIL_FROM are set. See README.
    SMTP_URL = os.environ.get("SMTP_URL", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "")
    SMTP_CA_FILE = os.environ.get("SMTP_CA_FILE", "")
    PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
    MAIL_DIGEST_HOUR = int(os.environ.get("MAIL_DIGEST_HOUR", "7"))  # UTC hour of the daily digest

    HTMX_VERSION = "2.0.11"
    HTMX_FROM_CDN = _flag("HTMX_FROM_CDN")
    HTMX_CDN_URL = "https://cdn.jsdelivr.net/npm/htmx.org@2.0.11/dist/htmx.min.js"
    HTMX_CDN_INTEGRITY = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"

    # Compressed answers (Flask-Compress): site trailers reach the intranet over slow links.
    # Pages, CSS, JS and JSON, in the best encoding the browser takes (zstd, then Brotli, then
    # gzip); static files too (htmx is 51 KB as sent, 16 KB compressed). Nothing under 500 bytes.
    COMPRESS_MIMETYPES = [
        "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
        "image/svg+xml", "text/plain",
    ]
    COMPRESS_ALGORITHM = ["zstd", "br", "gzip"]
    COMPRESS_MIN_SIZE = 500


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-only-" + secrets.token_hex(8)
    HUEY_IMMEDIATE = True
    RATELIMIT_STORAGE_URI = "memory://"
    REFRESH_STEP_DELAY = 0.0
    # A cheap hash: the real one is slow on purpose, and the suite logs in hundreds of times.
    # The tests about hashing use Config.PASSWORD_HASH_METHOD themselves.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 (a method name, not a password)
