"""The sign-in attempt counters, on every store: in memory, SQLite, PostgreSQL and Redis.

The same contract on each: counts per bucket in windows, attempts given back, and no lost or
shared count when many processes' threads count one bucket at once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier

import pytest
from sqlalchemy import func, select

from healthcare.adapters.counter_store import CounterStoreSignInAttempts
from healthcare.adapters.in_memory import InMemorySignInAttempts
from healthcare.adapters.sqlalchemy.sign_in_attempts import ATTEMPTS, SqlAlchemySignInAttempts
from healthcare.application.ports import SignInAttempts, StorageUnavailable
from healthcare.domain.sign_in import Allowance, Bucket
from tests.support.databases import REDIS_URL, backend_params, engine_for, require_redis

#: Stores that keep the application's time; Redis keeps its own (its counters expire).
CLOCKED = ["memory", "sqlite", "postgres"]
RACERS = 24


@pytest.fixture(params=[*backend_params(*CLOCKED), "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[SignInAttempts]:
    yield from _store(request, request.param)


@pytest.fixture(params=backend_params(*CLOCKED))
def clocked_store(request: pytest.FixtureRequest) -> Iterator[SignInAttempts]:
    yield from _store(request, request.param)


def _store(request: pytest.FixtureRequest, kind: str) -> Iterator[SignInAttempts]:
    if kind == "memory":
        yield InMemorySignInAttempts()
    elif kind == "redis":
        require_redis()
        yield CounterStoreSignInAttempts.at(REDIS_URL, f"test-{uuid.uuid4().hex}")
    else:
        with engine_for(request.getfixturevalue(f"{kind}_url"), pool_size=RACERS) as engine:
            yield SqlAlchemySignInAttempts(engine)


def bucket(name: str = "b", attempts: int = 5, window: timedelta = timedelta(minutes=1)) -> Bucket:
    return Bucket(f"test:{name}:{uuid.uuid4().hex}", Allowance(attempts, window))


def now() -> datetime:
    return datetime.now(UTC)


def test_each_attempt_counts_once_in_each_of_its_buckets(store: SignInAttempts) -> None:
    first, second = bucket("first"), bucket("second")
    counts = [[t.attempts for t in store.add([first, second], now())] for _ in range(3)]
    assert counts == [[1, 1], [2, 2], [3, 3]]
    assert [t.attempts for t in store.add([second], now())] == [4]


def test_a_window_ends_about_its_length_after_the_first_attempt(store: SignInAttempts) -> None:
    counted = now()
    (tally,) = store.add([bucket()], counted)
    assert counted + timedelta(seconds=58) <= tally.window_ends <= counted + timedelta(seconds=61)


def test_an_attempt_given_back_no_longer_counts(store: SignInAttempts) -> None:
    one = bucket()
    store.add([one], now())
    (second,) = store.add([one], now())
    store.give_back([(one, second)], now())
    assert [t.attempts for t in store.add([one], now())] == [2]


def test_a_bucket_starts_again_once_its_window_has_ended(clocked_store: SignInAttempts) -> None:
    one, start = bucket(), now()
    for _ in range(6):
        (tally,) = clocked_store.add([one], start)
    assert tally.attempts == 6
    (later,) = clocked_store.add([one], start + timedelta(minutes=1, seconds=1))
    assert later.attempts == 1 and later.window_ends > tally.window_ends


def test_an_attempt_of_an_ended_window_is_not_given_back_to_the_next(
    clocked_store: SignInAttempts,
) -> None:
    one, start = bucket(), now()
    (old,) = clocked_store.add([one], start)
    next_window = start + timedelta(minutes=2)
    clocked_store.add([one], next_window)
    clocked_store.give_back([(one, old)], next_window)
    assert [t.attempts for t in clocked_store.add([one], next_window)] == [2]


def test_redis_counters_expire_with_their_window() -> None:
    require_redis()
    store = CounterStoreSignInAttempts.at(REDIS_URL, f"test-{uuid.uuid4().hex}")
    one = bucket(window=timedelta(seconds=1))
    assert [store.add([one], now())[0].attempts for _ in range(3)] == [1, 2, 3]
    time.sleep(2.1)  # Redis keeps whole seconds
    assert store.add([one], now())[0].attempts == 1


def test_concurrent_attempts_each_get_their_own_count(store: SignInAttempts) -> None:
    """Many threads (each with its own connection) count two buckets at once: every count from 1
    to the number of attempts is handed out exactly once, in both buckets."""
    shared, other = bucket("shared"), bucket("other")
    start_together = Barrier(RACERS)

    def attempt(_: int) -> list[int]:
        start_together.wait()
        return [t.attempts for t in store.add([shared, other], now())]

    with ThreadPoolExecutor(RACERS) as pool:
        counts = list(pool.map(attempt, range(RACERS)))
    expected = list(range(1, RACERS + 1))
    assert sorted(c[0] for c in counts) == expected
    assert sorted(c[1] for c in counts) == expected


@pytest.mark.parametrize("kind", backend_params("sqlite", "postgres"))
def test_ended_windows_do_not_pile_up_in_the_table(
    kind: str, request: pytest.FixtureRequest
) -> None:
    with engine_for(request.getfixturevalue(f"{kind}_url")) as engine:
        store, start = SqlAlchemySignInAttempts(engine), now()
        for n in range(SqlAlchemySignInAttempts.PURGE_BATCH + 50):
            store.add([bucket(str(n))], start)
        store.add([bucket("after they ended")], start + timedelta(minutes=2))
        with engine.connect() as connection:
            left = connection.scalar(select(func.count()).select_from(ATTEMPTS))
    # One new window deleted a batch of ended ones: the rest go with the next new windows.
    assert left == 50 + 1


def test_an_unreachable_counter_store_is_storage_unavailable() -> None:
    store = CounterStoreSignInAttempts.at("redis://127.0.0.1:1/0", "test")
    with pytest.raises(StorageUnavailable):
        store.add([bucket()], now())
