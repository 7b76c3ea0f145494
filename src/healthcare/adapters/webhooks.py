"""Webhook delivery over the network: DNS, and one signed POST per attempt.

Signing is the ``standardwebhooks`` package's (``webhook-id``, ``webhook-timestamp``,
``webhook-signature`` exactly as the Standard Webhooks specification and its reference
libraries have them); posting is httpx's, with every phase bounded by the attempt's time limit,
redirects not followed, no proxy taken from the environment and no connection reused.

The connection goes to the address the use case checked (the URL's host resolved and found
allowed), never to a fresh look-up: the request names the IP, and the host travels in the Host
header and, for https, as the TLS server name (httpx's ``sni_hostname`` extension), against
which the certificate is verified. A DNS answer that changes between the check and the connect
cannot send the request elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

import healthcare
from healthcare.domain.webhooks import ATTEMPT_TIMEOUT, AttemptResult, Delivery, IpAddress

USER_AGENT = f"healthcare-webhooks/{healthcare.__version__}"


class SocketResolver:
    """Every address ``socket.getaddrinfo`` gives for the host (the system's resolver)."""

    def resolve(self, host: str, port: int) -> list[IpAddress]:
        try:
            answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError):
            return []
        addresses: list[IpAddress] = []
        for _family, _type, _proto, _name, sockaddr in answers:
            # An IPv6 link-local answer carries its zone ("fe80::1%eth0").
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        return addresses


class HttpWebhookSender:
    def __init__(self, timeout_seconds: float = ATTEMPT_TIMEOUT.total_seconds()) -> None:
        self.timeout_seconds = timeout_seconds
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=False,
            trust_env=False,
            # A pooled connection is tied to an IP and port, not to the host it was opened for;
            # with none kept, a TLS session is never reused for another endpoint on that IP.
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"User-Agent": USER_AGENT},
        )

    def send(self, delivery: Delivery, address: IpAddress, at: datetime) -> AttemptResult:
        signature = Webhook(delivery.secret).sign(delivery.event_id, at, delivery.body)
        parts = urlsplit(delivery.url)
        host = str(address) if address.version == 4 else f"[{address}]"
        target = urlunsplit(parts._replace(netloc=f"{host}:{parts.port or _default_port(parts.scheme)}"))
        headers = {
            "Host": parts.netloc,
            "Content-Type": "application/json",
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature,
        }
        started = time.perf_counter()
        try:
            # The answer's body is never read: only its status matters.
            with self.client.stream(
                "POST",
                target,
                content=delivery.body.encode(),
                headers=headers,
                extensions={"sni_hostname": parts.hostname},
            ) as response:
                status: int | None = response.status_code
            error = None
        except httpx.TimeoutException:
            status, error = None, f"timed out after {self.timeout_seconds:g} s"
        except httpx.HTTPError as failure:
            status, error = None, f"{type(failure).__name__}: {failure}"[:500]
        return AttemptResult(
            status_code=status, error=error, at=at, seconds=time.perf_counter() - started
        )

    def close(self) -> None:
        self.client.close()


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80
