"""Sign-in throttling: how many failed sign-ins are allowed, and what a lock-out locks.

Attempts are counted in buckets, each with an allowance of attempts per window:

- the account *from one client address* (``LOGIN_RATE_LIMIT``, 5 a minute): someone guessing
  one account's password;
- the client address, whatever the account (``LOGIN_ADDRESS_RATE_LIMIT``, 20 a minute): someone
  trying many accounts.

A bucket over its allowance refuses every attempt in it, the right password included, until its
window ends. The account's owner signing in from another address is in other buckets, so
nobody is locked out by someone else's guessing. Only failed password checks count: a
successful or refused attempt is given back. A window opens at a bucket's first attempt after
the previous window ended, and lasts the allowance's window.

Bucket keys are hashes, so the shared store never holds an email or an address in clear.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from healthcare.domain.errors import TooManySignInAttempts


@dataclass(frozen=True)
class Allowance:
    """At most ``attempts`` in a ``window``."""

    attempts: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.window <= timedelta(0):
            raise ValueError(f"an allowance needs attempts and a window, got {self}")


@dataclass(frozen=True)
class Bucket:
    key: str
    allowance: Allowance


@dataclass(frozen=True)
class Tally:
    """A bucket's count after one more attempt, and when its window ends."""

    attempts: int
    window_ends: datetime


@dataclass(frozen=True)
class SignInPolicy:
    #: Several allowances make several buckets ("5 per minute" and "50 per hour").
    per_account_and_address: tuple[Allowance, ...]
    per_address: tuple[Allowance, ...]

    def buckets(self, account: str, address: str) -> list[Bucket]:
        """The buckets an attempt on ``account`` (a normalised email) from ``address`` counts in."""
        pair = _digest(account, address)
        by_address = _digest(address)
        return [
            *(_bucket("account+address", pair, a) for a in self.per_account_and_address),
            *(_bucket("address", by_address, a) for a in self.per_address),
        ]

    @staticmethod
    def admit(tallies: Sequence[tuple[Bucket, Tally]], now: datetime) -> None:
        """Refuse the attempt when any bucket, counting it, is over its allowance; the answer
        says when the last of those buckets lets attempts in again."""
        # At most a window: a concurrent attempt that read the clock a moment later may have
        # opened the window, so it can end a little more than a window after this ``now``.
        waits = [
            min(tally.window_ends - now, bucket.allowance.window)
            for bucket, tally in tallies
            if tally.attempts > bucket.allowance.attempts
        ]
        if waits:
            raise TooManySignInAttempts(max(1, math.ceil(max(waits).total_seconds())))


def _bucket(kind: str, digest: str, allowance: Allowance) -> Bucket:
    seconds = int(allowance.window.total_seconds())
    return Bucket(f"sign-in:{kind}:{digest}:{seconds}", allowance)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()
