"""Idle clients (OWASP API4, availability): a few sockets that connect and then send nothing (a
browser's preconnects, a pool's spare connections) must not take every worker away.

A real gunicorn with the packaged settings (bar the worker count) on loopback. A gthread worker
gives a silent socket a thread for at most 5 s, then parks it in its poller. Sync workers fail
this: each blocks on the first socket it accepts until the 30 s timeout kills it. More idle
sockets than threads, or requests sent half and never finished (slowloris), are a deliberate
attack that no gunicorn worker type absorbs: that is the buffering reverse proxy's job
(docs/DECISIONS.md, Operations).
"""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from healthcare.entrypoints import gunicorn_conf
from tests.security.servers import call, gunicorn

pytestmark = pytest.mark.slow
WORKERS = 2
#: More silent sockets than workers, fewer than the packaged threads (2 x 4).
IDLE = 6


def test_idle_connections_do_not_stall_the_server(sqlite_url: str, tmp_path: Path) -> None:
    assert IDLE < WORKERS * gunicorn_conf.threads
    with gunicorn(sqlite_url, tmp_path, workers=WORKERS) as server:
        address = urlsplit(server.base)
        sockets = [socket.create_connection((address.hostname, address.port)) for _ in range(IDLE)]
        try:
            status, _, body = call(server.base, "GET", "/healthz")  # gives up after 10 s
            assert (status, body) == (200, {"status": "ok"})
        finally:
            for idle_socket in sockets:
                idle_socket.close()
