"""Production gunicorn settings, shipped with the package.

    gunicorn -c python:healthcare.entrypoints.gunicorn_conf 'healthcare.bootstrap:create_app()'

``healthcare serve`` starts from the same settings. The app is NOT preloaded: each worker builds
its own app, and so its own database engine, after the fork, so no connection is shared between
processes. Environment: ``GUNICORN_BIND`` (default 0.0.0.0:8000), ``WEB_CONCURRENCY`` (workers),
``GUNICORN_THREADS``, ``LOG_LEVEL``, ``FORWARDED_ALLOW_IPS`` (the proxy in front, whose
X-Forwarded-For gunicorn then trusts).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from typing import Any

from healthcare.config import ConfigError, Settings

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
# gthread workers: a connection that sends nothing holds a thread for at most 5 s, then waits
# in the worker's poller until ``keepalive`` drops it; a few idle sockets stall sync workers
# until the timeout kills them (docs/DECISIONS.md, Operations).
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A listening socket per worker, so the kernel spreads connections over the workers. With one
# shared socket a gthread worker keeps every keep-alive connection it wins: on the bench one
# worker sometimes held all 16 and the API ran on one core (394 req/s instead of 830). Linux
# only: elsewhere SO_REUSEPORT does not balance.
reuse_port = sys.platform == "linux"
preload_app = False
# No runtime control socket: several instances on one host would fight over its path.
control_socket_disable = True

timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, staggered, so a slow leak never takes the service down. Not
# often: a worker's boot costs about 0.7 s of CPU (imports, the app, new database connections),
# and at 2,000 requests it took a tenth of the CPU under load and set p99 at 200+ ms.
max_requests = 100_000
max_requests_jitter = 10_000

# Request-size limits before Flask sees anything (bodies are capped by MAX_CONTENT_LENGTH).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
# The request line has no body and our query strings carry ids and dates, never patient data.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'

errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")

#: One JSON object per line on stdout/stderr, for the log collector.
logconfig_dict: dict[str, Any] = {
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
    "root": {"level": loglevel.upper(), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
    },
}


def on_starting(server: Any) -> None:
    """Refuse to start on a wrong setting, with its one line, before any worker boots."""
    try:
        Settings.from_env()
    except ConfigError as error:
        print(f"healthcare: configuration error: {error}", file=sys.stderr)
        sys.exit(1)
