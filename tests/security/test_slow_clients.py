"""Idle and slow clients (OWASP API4, availability): sockets that connect and send nothing (a
browser's preconnects, a pool's spare connections), or send half a request and stall
(slowloris), must not take the server away from everyone else.

The production server (``healthcare serve``) with its packaged settings, bar the worker count,
on loopback. Its workers read requests in Rust and hand a Python thread only a whole request, so
a silent or stalled socket holds no thread, however many of them there are; the header read
timeout then closes it (docs/OPERATIONS.md).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from healthcare.entrypoints import server as packaged
from tests.security.servers import Server, call, served

pytestmark = pytest.mark.slow
WORKERS = 2
#: Far more sockets than the Python threads of both workers.
SOCKETS = 10 * WORKERS * packaged.THREADS
#: An answer while they hang on must come at the usual speed, not after a timeout.
PROMPT_S = 2.0


@contextmanager
def _connections(server: Server, count: int, sent: bytes) -> Iterator[list[socket.socket]]:
    address = urlsplit(server.base)
    with ExitStack() as stack:
        sockets = []
        for _ in range(count):
            connection = stack.enter_context(
                socket.create_connection((address.hostname, address.port), timeout=5)
            )
            if sent:
                connection.sendall(sent)
            sockets.append(connection)
        yield sockets


def _health(server: Server) -> tuple[int, object, float]:
    """The health check's status and body, and how long it took (``call`` gives up at 10 s)."""
    began = time.monotonic()
    status, _, body = call(server.base, "GET", "/healthz")
    return status, body, time.monotonic() - began


def test_many_idle_connections_do_not_stall_the_server(sqlite_url: str, tmp_path: Path) -> None:
    with served(sqlite_url, tmp_path, workers=WORKERS) as server, _connections(server, SOCKETS, b""):
        time.sleep(0.5)  # every socket accepted and waiting
        status, body, took = _health(server)
    assert (status, body) == (200, {"status": "ok"}) and took < PROMPT_S, (status, took)


def test_half_sent_requests_do_not_stall_the_server(sqlite_url: str, tmp_path: Path) -> None:
    stalled = b"POST /api/auth/login/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
    with served(sqlite_url, tmp_path, workers=WORKERS) as server:
        with _connections(server, SOCKETS, stalled):
            time.sleep(0.5)
            status, body, took = _health(server)
        assert (status, body) == (200, {"status": "ok"}) and took < PROMPT_S, (status, took)


def test_a_socket_that_never_finishes_its_headers_is_closed(sqlite_url: str, tmp_path: Path) -> None:
    timeout_s = packaged.HEADER_READ_TIMEOUT_MS / 1000
    with served(sqlite_url, tmp_path, workers=WORKERS) as server:
        with _connections(server, 1, b"GET /healthz HTTP/1.1\r\n") as (stalled,):
            stalled.settimeout(timeout_s + 5)
            began = time.monotonic()
            try:
                stalled.recv(1024)  # b"" (closed) or an error answer before the close
            except ConnectionResetError:
                pass  # closed too; a socket still open raises TimeoutError and fails the test
            waited = time.monotonic() - began
    assert waited < timeout_s + 2, waited
