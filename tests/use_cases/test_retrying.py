"""A use case the database aborted for a concurrent one runs again, a bounded number of times."""

from __future__ import annotations

import pytest

from healthcare.application.ports import StorageUnavailable, TransactionAborted
from healthcare.application.services.base import Service


class FlakyUseCase:
    """Aborted by the database ``aborts`` times, then done."""

    def __init__(self, aborts: int) -> None:
        self.aborts = aborts
        self.runs = 0

    def __call__(self) -> str:
        self.runs += 1
        if self.runs <= self.aborts:
            raise TransactionAborted("a concurrent transaction won")
        return "booked"


def service() -> Service:
    return Service(uow_factory=None, clock=None)  # type: ignore[arg-type]


def test_an_aborted_use_case_runs_again_until_it_completes() -> None:
    use_case = FlakyUseCase(aborts=Service.ATTEMPTS - 1)
    assert service().retrying(use_case) == "booked"
    assert use_case.runs == Service.ATTEMPTS


def test_a_use_case_aborted_every_time_is_unavailable_after_the_last_attempt() -> None:
    use_case = FlakyUseCase(aborts=Service.ATTEMPTS)
    with pytest.raises(StorageUnavailable):  # still a 503 with Retry-After
        service().retrying(use_case)
    assert use_case.runs == Service.ATTEMPTS


def test_other_failures_are_not_retried() -> None:
    runs = []

    def unreachable_database() -> None:
        runs.append(1)
        raise StorageUnavailable("down")

    with pytest.raises(StorageUnavailable):
        service().retrying(unreachable_database)
    assert runs == [1]
