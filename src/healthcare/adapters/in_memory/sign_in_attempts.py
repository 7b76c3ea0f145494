"""Sign-in attempts counted in this process: for tests and single-process tools only, since
every process would count alone (the database or Redis adapters share the counts)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from healthcare.domain.sign_in import Bucket, Tally


class InMemorySignInAttempts:
    def __init__(self) -> None:
        self._tallies: dict[str, Tally] = {}
        self._lock = threading.Lock()

    def add(self, buckets: Sequence[Bucket], now: datetime) -> list[Tally]:
        with self._lock:
            return [self._add(bucket, now) for bucket in buckets]

    def _add(self, bucket: Bucket, now: datetime) -> Tally:
        held = self._tallies.get(bucket.key)
        if held is None or held.window_ends <= now:
            held = Tally(0, now + bucket.allowance.window)
        tally = Tally(held.attempts + 1, held.window_ends)
        self._tallies[bucket.key] = tally
        return tally

    def give_back(self, tallies: Sequence[tuple[Bucket, Tally]], now: datetime) -> None:
        with self._lock:
            for bucket, given in tallies:
                held = self._tallies.get(bucket.key)
                if held is not None and held.window_ends == given.window_ends > now:
                    self._tallies[bucket.key] = Tally(max(0, held.attempts - 1), held.window_ends)
