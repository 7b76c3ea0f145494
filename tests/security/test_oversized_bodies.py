"""Bodies over the size limit, over a raw socket to the real server (OWASP API4).

A 413 must tell the truth about the connection: either it says ``Connection: close`` and the
server closes, or the connection carries the client's next request. And a chunked body, which
has no length to check up front, is 413 when it is too long, not cut at the limit and answered
400 as malformed JSON.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from healthcare.entrypoints.api.bodies import DISCARD_FACTOR
from tests.e2e.conftest import expect
from tests.security.servers import Server, served
from tests.support.databases import fresh_sqlite_database

LIMIT = 1024 * 1024  # MAX_CONTENT_LENGTH's default, which the server runs with
TOKEN = "/api/auth/jwt/token/"


@pytest.fixture(scope="module")
def server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("server")
    with served(fresh_sqlite_database(sqlite_template, directory), directory, 1) as server:
        yield server


def credentials(size: int) -> bytes:
    body = json.dumps({"email": "pat@example.test", "password": ""}).encode()
    return body[:-2] + b"x" * (size - len(body)) + body[-2:]


def chunked(body: bytes, size: int = 64 * 1024) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


class Connection:
    """One keep-alive connection, read and written byte for byte."""

    def __init__(self, server: Server) -> None:
        url = urlsplit(server.base)
        self.socket = socket.create_connection((url.hostname, url.port), timeout=20)
        self.buffered = b""

    def send(self, head: str, body: bytes = b"") -> None:
        self.socket.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)

    def answer(self) -> tuple[int, dict[str, str], bytes] | None:
        """The next response, or None when the server closed the connection first."""
        while b"\r\n\r\n" not in self.buffered:
            if not self._receive():
                return None
        head, _, self.buffered = self.buffered.partition(b"\r\n\r\n")
        status_line, *lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
        length = int(headers.get("content-length", 0))
        while len(self.buffered) < length:
            if not self._receive():
                return None
        body, self.buffered = self.buffered[:length], self.buffered[length:]
        return int(status_line.split()[1]), headers, body

    def _receive(self) -> bool:
        try:
            data = self.socket.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return False
        self.buffered += data
        return bool(data)

    def close(self) -> None:
        self.socket.close()


def post(body: bytes, *, framing: str) -> tuple[str, bytes]:
    if framing == "chunked":
        return (
            f"POST {TOKEN} HTTP/1.1\nHost: test\nContent-Type: application/json\n"
            "Transfer-Encoding: chunked\n",
            chunked(body),
        )
    return (
        f"POST {TOKEN} HTTP/1.1\nHost: test\nContent-Type: application/json\n"
        f"Content-Length: {len(body)}\n",
        body,
    )


def assert_the_connection_is_as_announced(connection: Connection, headers: dict[str, str]) -> None:
    connection.send("GET /healthz HTTP/1.1\nHost: test\n")
    following = connection.answer()
    if headers.get("connection", "").lower() == "close":
        assert following is None, "announced close, but served another request"
    else:
        assert following is not None, "announced keep-alive, then closed the connection"
        assert following[0] == 200


@pytest.mark.slow
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("size", [LIMIT + 1, LIMIT + 200 * 1024, 2 * LIMIT])
def test_a_body_over_the_limit_is_413_and_the_connection_is_as_announced(
    server: Server, framing: str, size: int
) -> None:
    connection = Connection(server)
    try:
        connection.send(*post(credentials(size), framing=framing))
        answer = connection.answer()
        assert answer is not None, "no answer at all"
        status, headers, body = answer
        assert status == 413, body[:300]
        assert json.loads(body)["code"] == 413
        assert_the_connection_is_as_announced(connection, headers)
    finally:
        connection.close()


@pytest.mark.slow
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_at_the_limit_is_read_whole(server: Server, framing: str) -> None:
    connection = Connection(server)
    try:
        connection.send(*post(credentials(LIMIT), framing=framing))
        answer = connection.answer()
        assert answer is not None
        status, headers, body = answer
        # Read and validated: a password over its 1024 characters, not a size problem.
        assert status == 422, body[:300]
        assert re.search(rb"password", body)
        assert_the_connection_is_as_announced(connection, headers)
    finally:
        connection.close()


def test_a_body_too_large_to_read_through_is_answered_with_connection_close(
    client: FlaskClient, app: Flask
) -> None:
    huge = credentials((DISCARD_FACTOR + 1) * app.config["MAX_CONTENT_LENGTH"])
    response = client.post(TOKEN, data=huge, content_type="application/json")
    expect(response, 413)
    assert response.headers["Connection"] == "close"
    within = credentials(app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post(TOKEN, data=within, content_type="application/json")
    expect(response, 413)
    assert "Connection" not in response.headers  # read through: the connection stays usable
