"""Sign-in attempts counted in a shared counter store through the ``limits`` library: Redis
(``redis://``, ``rediss://``, ``redis+sentinel://``, ``redis+cluster://``) or any other store it
reaches, when ``RATELIMIT_STORAGE_URI`` names one.

``limits`` increments and sets a new counter's expiry in one server-side step (a Lua script on
Redis), so concurrent attempts from any number of processes each get their own count. The
counter's expiry is the bucket's window; the store keeps its own time, so ``now`` only decides
whether a window ended before an attempt is given back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from limits.errors import StorageError
from limits.storage import Storage, storage_from_string

from healthcare.application.ports import StorageUnavailable
from healthcare.domain.sign_in import Bucket, Tally


class CounterStoreSignInAttempts:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    @classmethod
    def at(cls, uri: str, key_prefix: str) -> CounterStoreSignInAttempts:
        """The store at ``uri``; ``key_prefix`` keeps deployments sharing it apart."""
        storage = storage_from_string(uri, key_prefix=key_prefix, wrap_exceptions=True)
        return cls(storage)  # type: ignore[arg-type]

    def add(self, buckets: Sequence[Bucket], now: datetime) -> list[Tally]:
        try:
            return [self._add(bucket) for bucket in buckets]
        except StorageError as error:
            raise StorageUnavailable("The sign-in counters are unreachable.") from error

    def _add(self, bucket: Bucket) -> Tally:
        attempts = self.storage.incr(bucket.key, _seconds(bucket))
        ends = datetime.fromtimestamp(self.storage.get_expiry(bucket.key), UTC)
        return Tally(attempts, ends)

    def give_back(self, tallies: Sequence[tuple[Bucket, Tally]], now: datetime) -> None:
        try:
            for bucket, tally in tallies:
                # A counter that expired meanwhile is left alone: decrementing it would make a
                # new one at -1, one attempt too many for the next window. (It may still expire
                # between the two calls: that costs the same one attempt, rarely.)
                if tally.window_ends > now and self.storage.get(bucket.key) > 0:
                    self.storage.incr(bucket.key, _seconds(bucket), amount=-1)
        except StorageError as error:
            raise StorageUnavailable("The sign-in counters are unreachable.") from error


def _seconds(bucket: Bucket) -> int:
    return max(1, math.ceil(bucket.allowance.window.total_seconds()))
