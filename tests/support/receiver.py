"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 that verifies every
signature with the ``standardwebhooks`` library itself and answers as told (200, 500, 410, or
hangs until released)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

HANG = "hang"


@dataclass(frozen=True)
class Receipt:
    webhook_id: str
    verified: bool
    body: bytes
    #: What the receiver answered (None: it hung and never answered).
    answered: int | None
    #: The Host header the request named.
    host: str = ""

    @property
    def type(self) -> str:
        return str(json.loads(self.body)["type"])


class _Server(ThreadingHTTPServer):
    # Room for every connection the workers open at once (the default backlog is 5).
    request_queue_size = 128
    daemon_threads = True


class Receiver:
    def __init__(self) -> None:
        self.secret: str | None = None
        #: Answers for the next requests, in order; 200 once it runs out.
        self.script: list[int | str] = []
        self.receipts: list[Receipt] = []
        self.released = threading.Event()
        self.arrived = threading.Condition()
        self._server = _Server(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def delivered(self) -> list[Receipt]:
        """What was answered 2xx, in arrival order."""
        return [r for r in self.receipts if r.answered is not None and 200 <= r.answered < 300]

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        """Until ``count`` requests arrived (answered or hanging)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.receipts) + self._hanging >= count, timeout)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self
        receiver._hanging = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name: value for name, value in self.headers.items()}
                try:
                    Webhook(receiver.secret or "").verify(body, headers)
                    verified = True
                except (WebhookVerificationError, ValueError):
                    verified = False
                with receiver.arrived:
                    answer = receiver.script.pop(0) if receiver.script else 200
                    if answer == HANG:
                        receiver._hanging += 1
                    receiver.arrived.notify_all()
                if answer == HANG:
                    receiver.released.wait(60)
                    with receiver.arrived:
                        receiver._hanging -= 1
                        receiver.receipts.append(
                            Receipt(headers["webhook-id"], verified, body, None, self.headers["Host"])
                        )
                    return
                with receiver.arrived:
                    receiver.receipts.append(
                        Receipt(
                            headers.get("webhook-id", ""), verified, body, int(answer), self.headers["Host"]
                        )
                    )
                    receiver.arrived.notify_all()
                self.send_response(int(answer))
                if 300 <= int(answer) < 400:
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.released.set()
            self._server.shutdown()
            self._server.server_close()
