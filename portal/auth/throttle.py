"""Log-in throttling: failed attempts counted per address, per account from an address, and per
account from everywhere, in the rate limiter's store (memory, or Redis when REDIS_URL is set).

An attempt is charged *before* its password is checked, with the store's atomic increment, and
refunded if the password was right: parallel attempts cannot all pass a "not yet at the limit"
test and then all be checked. Counting an account's failures per address lets someone's
guesses from one machine lock only that machine out, while the higher ceiling per account
across addresses still stops guessing spread over many machines.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse

from portal.extensions import limiter

# (setting, what the count is kept per): the identifiers are filled from (address, account).
_LIMITS = (
    ("LOGIN_ADDRESS_FAILURE_LIMIT", "address"),
    ("LOGIN_FAILURE_LIMIT", "account-from-address"),
    ("LOGIN_ACCOUNT_FAILURE_LIMIT", "account"),
)


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # seconds, for the Retry-After header
    message: str


def _spent_limit(retry_after: int) -> Refusal:
    minutes = max(1, math.ceil(retry_after / 60))
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return Refusal(retry_after, f"Too many failed log-in attempts. Try again in {wait}.")


@dataclass(frozen=True)
class Attempt:
    address: str
    account: str

    def _limits(self) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        identifiers = {
            "address": (self.address,),
            "account-from-address": (self.account, self.address),
            "account": (self.account,),
        }
        return [
            (parse(current_app.config[setting]), ("login", kind, *identifiers[kind]))
            for setting, kind in _LIMITS
        ]

    def charge(self) -> Refusal | None:
        """Count this attempt as a failure; a Refusal if any limit is spent (check nothing then)."""
        spent = []
        for item, identifiers in self._limits():
            if not limiter.limiter.hit(item, *identifiers):
                spent.append((item, identifiers))
        if not spent:
            return None
        resets = [limiter.limiter.get_window_stats(item, *ids).reset_time for item, ids in spent]
        return _spent_limit(max(1, math.ceil(max(resets) - time.time())))

    def refund(self) -> None:
        """The password was right: this attempt was not a failure after all."""
        for item, identifiers in self._limits():
            limiter.storage.incr(item.key_for(*identifiers), item.get_expiry(), amount=-1)


BUSY = Refusal(2, "The portal is checking many log-ins at once. Try again in a few seconds.")


class PasswordChecks:
    """How many password checks run at once in this process.

    Each check keeps a processor busy for most of a second on purpose (scrypt). Past a few at
    once they only slow each other and every other page down, and they hold the server's
    worker threads: a log-in beyond the limit is answered at once, to try again in a moment,
    instead of queueing in front of everyone else's work.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0

    @contextmanager
    def slot(self, limit: int) -> Iterator[bool]:
        """Yields whether this check may run now (False: answer BUSY)."""
        with self._lock:
            free = self._running < limit
            if free:
                self._running += 1
        try:
            yield free
        finally:
            if free:
                with self._lock:
                    self._running -= 1


password_checks = PasswordChecks()
