"""SQLite's writers queue instead of sleeping: a write transaction first takes its turn (a lock
of its process, then ``flock`` on ``<database>.writers``), so a writer of another process, or a
batch job, waits exactly as long as the writer ahead of it, and gives up with
StorageUnavailable (HTTP 503) after the busy timeout."""

from __future__ import annotations

import fcntl
import multiprocessing
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from healthcare.application.ports import StorageUnavailable
from tests.support.databases import engine_for

#: Long enough to tell "waited for the holder" from "did not wait", under any load.
HOLD_S = 1.0


def _writers_file(url: str) -> Path:
    path = Path(url.removeprefix("sqlite:///"))
    return path.with_name(path.name + ".writers")


def _hold_the_turn(url: str, held: object, release: object) -> None:
    """Another process's writer: takes the turn, writes, and commits only when told."""
    with engine_for(url) as engine, engine.begin() as connection:
        connection.execute(text("SELECT 1"))
        held.set()  # type: ignore[attr-defined]
        release.wait(30)  # type: ignore[attr-defined]


def test_a_writer_waits_for_another_processes_writer_and_goes_on_when_it_commits(
    sqlite_url: str,
) -> None:
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    other = context.Process(target=_hold_the_turn, args=(sqlite_url, held, release))
    other.start()
    try:
        assert held.wait(30), "the other process never took the write turn"
        began = time.monotonic()
        threading.Timer(HOLD_S, release.set).start()
        with engine_for(sqlite_url) as engine, engine.begin() as connection:
            waited = time.monotonic() - began
            connection.execute(text("SELECT 1"))
    finally:
        release.set()
        other.join(30)
    assert waited >= HOLD_S * 0.9, waited
    assert other.exitcode == 0


def test_a_writer_kept_waiting_past_the_busy_timeout_is_storage_unavailable(
    sqlite_url: str,
) -> None:
    with _writers_file(sqlite_url).open("a+b") as batch_job:
        fcntl.flock(batch_job, fcntl.LOCK_EX)  # a writer of another program holds the turn
        with engine_for(sqlite_url, statement_timeout_ms=200) as engine:
            with pytest.raises(StorageUnavailable), engine.begin() as connection:
                connection.execute(text("SELECT 1"))
            fcntl.flock(batch_job, fcntl.LOCK_UN)
            with engine.begin() as connection:  # the turn came back: writing works again
                assert connection.execute(text("SELECT 1")).scalar() == 1
