"""The HTTP server, shipped with the package: granian in WSGI mode (docs/OPERATIONS.md).

``healthcare serve`` runs it. Each worker process builds its own app, and so its own database
engine, after it starts: no connection crosses a process boundary. Environment:
``WEB_CONCURRENCY`` (workers), ``WEB_THREADS`` (Python threads per worker), ``LOG_LEVEL``.
"""

from __future__ import annotations

import os
from typing import Any

#: Python threads per worker. A request holds one only while the app runs it: granian's Rust
#: side reads requests and writes answers, so an idle or slow client holds none.
THREADS = 8
#: Connections one worker takes at a time. Idle keep-alive connections count, so it is far
#: above the threads: a few hundred idle sockets must not stop a worker from accepting.
BACKPRESSURE = 512
#: A client must send its request headers within this (milliseconds), or the connection closes.
HEADER_READ_TIMEOUT_MS = 10_000
#: A worker that does not stop within this after SIGTERM (a restart, a shutdown) is killed.
KILL_TIMEOUT_S = 30


def default_workers() -> int:
    """One worker per core (granian's own advice): its threads wait on the database in parallel."""
    return max(1, os.cpu_count() or 1)


def options(app: str, host: str, port: int, workers: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``granian.Granian``: the packaged settings, environment on top.

    ``app`` names the app factory (``module:function``); each worker calls it, so each reads
    the settings from the environment that ``healthcare serve`` has already validated.
    """
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    level = os.environ.get("LOG_LEVEL", "info").lower()
    return {
        "target": app,
        "factory": True,
        "interface": Interfaces.WSGI,
        "address": host,
        "port": port,
        "workers": workers or int(os.environ.get("WEB_CONCURRENCY", default_workers())),
        "blocking_threads": int(os.environ.get("WEB_THREADS", THREADS)),
        "backpressure": BACKPRESSURE,
        "http": HTTPModes.http1,
        "http1_settings": HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        # A worker that dies (killed, out of memory) is replaced; without this the whole
        # server stops with it.
        "respawn_failed_workers": True,
        "workers_kill_timeout": KILL_TIMEOUT_S,
        "log_level": level,
        "log_dictconfig": logging_config(level),
        # The app writes the access line itself, with the request id it assigned
        # (healthcare.entrypoints.api.observability); granian's would only see the client's.
        "log_access": False,
    }


def granian(app: str, host: str, port: int, workers: int | None = None) -> Any:
    """The server, ready to ``serve()`` until SIGINT or SIGTERM (SIGHUP restarts the workers
    one by one). Making it configures logging, so what is logged from here on is JSON."""
    from granian import Granian

    return Granian(**options(app, host, port, workers))


def logging_config(level: str = "info") -> dict[str, Any]:
    """One JSON object per line: access lines on stdout, everything else on stderr."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "healthcare.entrypoints.api.observability.RequestIdFilter"},
        },
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            }
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
                "stream": "ext://sys.stdout",
            },
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            },
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "_granian": {"level": level, "handlers": ["stderr"], "propagate": False},
            "granian.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
            "healthcare.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        },
    }
