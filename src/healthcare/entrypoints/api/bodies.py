"""Request bodies read with the size limit applied, whatever their framing.

A body with a ``Content-Length`` over ``MAX_CONTENT_LENGTH`` is refused (413) before a byte of
it is read. A chunked body has no length to check, so it is read up to one byte past the
limit: more than the limit is 413 too, never a body silently cut at the limit (which then
failed to parse and answered 400).

A refused body is still on the connection. What the client keeps sending of it, up to twice the
limit, is read and dropped, so the connection can carry the client's next request; a larger
rest is not worth the bandwidth, and the answer says ``Connection: close``. (A server
that drops an application's hop-by-hop headers, as gunicorn does, then closes the connection
without saying so: see docs/SECURITY.md.)
"""

from __future__ import annotations

from typing import IO, Any

from flask import Request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_input_stream

_READ = 64 * 1024
#: How much of a refused body is read through, in limits: past that the connection closes.
DISCARD_FACTOR = 2


class BoundedRequest(Request):
    #: The body stream once made: how much of the body was read is its position.
    _body: LimitedStream | IO[bytes] | None = None

    @cached_property
    def stream(self) -> IO[bytes]:  # type: ignore[override]
        limit = self.max_content_length
        # One byte beyond the limit tells "more than the limit" from "exactly the limit".
        self._body = get_input_stream(
            self.environ, max_content_length=None if limit is None else limit + 1
        )
        return self._body

    def get_data(self, *args: Any, **kwargs: Any) -> Any:
        data = super().get_data(*args, **kwargs)
        limit = self.max_content_length
        if limit is not None and len(data) > limit:
            raise RequestEntityTooLarge()
        return data

    def discard_unread_body(self) -> bool:
        """Read and drop what is left of a refused body, up to twice ``max_content_length``;
        True when nothing of it is left on the connection."""
        budget = DISCARD_FACTOR * (self.max_content_length or 0)
        if "wsgi.input_terminated" in self.environ:
            # The server ends the input where the body ends, chunked or not.
            if (self.content_length or 0) > budget:
                return False  # known to be too much: not worth reading
            rest: IO[bytes] = self.environ["wsgi.input"]
        else:
            # Only a Content-Length body can be on the connection: what is left of it.
            read = self._body.tell() if self._body is not None else 0
            left = (self.content_length or 0) - read
            if left > budget:
                return False
            rest = LimitedStream(self.environ["wsgi.input"], left)
        try:
            while budget > 0:
                chunk = rest.read(min(_READ, budget))
                if not chunk:
                    return True
                budget -= len(chunk)
            return not rest.read(1)
        except (ClientDisconnected, OSError, ValueError):
            return False
