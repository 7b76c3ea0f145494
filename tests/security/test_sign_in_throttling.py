"""Sign-in throttling on the real server: five workers count failed sign-ins as one.

The packaged server (``tests.security.servers``) runs five workers on a SQLite database, the
default deployment, with the default counters (in the database). Guesses arrive at once, each
on its own connection, so the kernel spreads them over the workers. Clients speak from
different loopback addresses (127.0.0.x), which the server sees as different client addresses.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from pathlib import Path
from threading import Barrier
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.security.servers import Server, call, served
from tests.support.databases import fresh_sqlite_database

pytestmark = pytest.mark.slow

WORKERS = 5
PASSWORD = "the-owners-password"
GUESSER, OWNER, SCANNER, BYSTANDER = "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"


@pytest.fixture(scope="module")
def server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("throttled-server")
    with served(fresh_sqlite_database(sqlite_template, directory), directory, WORKERS) as server:
        assert len(server.workers()) == WORKERS
        yield server


def sign_in(server: Server, address: str, email: str, password: str) -> tuple[int, Message]:
    """One sign-in on a new connection from ``address``: (status, headers, looked up ignoring
    case as HTTP means them)."""
    url = urlsplit(server.base)
    connection = http.client.HTTPConnection(
        url.hostname, url.port, timeout=30, source_address=(address, 0)
    )
    try:
        body = json.dumps({"email": email, "password": password})
        connection.request(
            "POST", "/api/auth/login/", body, {"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
        if response.status >= 400:
            assert answer["code"] == response.status, answer  # the common error body
        return response.status, response.headers
    finally:
        connection.close()


def register(server: Server, email: str) -> None:
    status, _, body = call(
        server.base,
        "POST",
        "/api/auth/register/",
        {"email": email, "password": PASSWORD, "name": "Pat Lee"},
    )
    assert status == 201, body


def all_at_once(attempts: int, attempt: Any) -> list[tuple[int, dict[str, str]]]:
    start_together = Barrier(attempts)

    def go(n: int) -> tuple[int, dict[str, str]]:
        start_together.wait()
        return attempt(n)  # type: ignore[no-any-return]

    with ThreadPoolExecutor(attempts) as pool:
        return list(pool.map(go, range(attempts)))


def test_guesses_at_one_account_are_counted_once_by_every_worker(server: Server) -> None:
    register(server, "pat@example.test")
    answers = all_at_once(
        25, lambda n: sign_in(server, GUESSER, "pat@example.test", f"guess-number-{n}")
    )
    statuses = sorted(status for status, _ in answers)
    assert statuses == [401] * 5 + [429] * 20
    assert all(1 <= int(headers["Retry-After"]) <= 60 for s, headers in answers if s == 429)
    # The right password from the guesser's address waits too.
    assert sign_in(server, GUESSER, "pat@example.test", PASSWORD)[0] == 429


def test_the_owner_signs_in_from_their_address_while_their_account_is_guessed(
    server: Server,
) -> None:
    register(server, "olive@example.test")
    all_at_once(10, lambda n: sign_in(server, GUESSER, "olive@example.test", f"guess-{n}"))
    answers = all_at_once(6, lambda n: sign_in(server, OWNER, "olive@example.test", PASSWORD))
    assert [status for status, _ in answers] == [200] * 6


def test_an_address_trying_many_accounts_is_stopped_by_every_worker(server: Server) -> None:
    register(server, "quinn@example.test")
    answers = all_at_once(
        30, lambda n: sign_in(server, SCANNER, f"user{n}@example.test", "a-guessed-password")
    )
    assert sorted(status for status, _ in answers) == [401] * 20 + [429] * 10
    assert sign_in(server, SCANNER, "quinn@example.test", PASSWORD)[0] == 429
    assert sign_in(server, BYSTANDER, "quinn@example.test", PASSWORD)[0] == 200
