"""Request ids and response hygiene.

Every request gets an id, on the response and on every log line written meanwhile, the access
line included (logger ``healthcare.access``: written by the app, so it carries the id the app
chose, whatever server runs it). A client or proxy may send ``X-Request-ID`` to correlate its
logs with ours; anything that is not a short token is replaced, so a header cannot inject text
into the logs.

API responses carry patient data, so no cache (browser or proxy) may keep them, and no browser
may guess their type.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("healthcare.access")


def init_request_ids(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if _ACCEPTABLE.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def expose_request_id(response: Response) -> Response:
        if "request_id" in g:
            response.headers[HEADER] = g.request_id
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.path.startswith("/api/") and response.mimetype == "application/json":
            response.headers["Cache-Control"] = "no-store"
        if "request_started" in g:
            # The request line has no body, and query strings carry ids and dates, never
            # patient data.
            took_ms = (time.perf_counter() - g.request_started) * 1000
            access_log.info(
                '%s "%s %s" %s %s %.1fms',
                request.remote_addr,
                request.method,
                request.full_path.rstrip("?"),
                response.status_code,
                response.calculate_content_length() or "-",
                took_ms,
            )
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record ("-" outside a request), for the log formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True
