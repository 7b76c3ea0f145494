"""Sign-in throttling: repeated FAILED sign-ins per account and per client address get 429.

Only failures (401) count, so a user who signs in correctly is never penalised; once a bucket is
full every attempt on it is refused until the window moves, which is what stops guessing. The
counters live in ``RATELIMIT_STORAGE_URI`` (``memory://`` for one process, ``redis://`` for
several).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

F = TypeVar("F", bound=Callable[..., Any])

#: Initialised per app by the composition root (``limiter.init_app(app)``).
limiter = Limiter(key_func=get_remote_address)


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _account_key() -> str:
    try:
        body = request.get_json(silent=True)
    except (RecursionError, ValueError):  # too deep or too long: the view answers 400
        body = None
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email.strip():
        return "account:-"
    # Hashed: the shared counter store (Redis) never holds an address in clear.
    return "account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _address_key() -> str:
    return "address:" + (get_remote_address() or "-")


def login_throttle(fn: F) -> F:
    """Shared by every sign-in endpoint, so switching endpoints does not reset the count."""
    per_account = limiter.shared_limit(
        lambda: current_app.config["LOGIN_RATE_LIMIT"],
        scope="sign-in-account",
        key_func=_account_key,
        deduct_when=_failed,
    )
    per_address = limiter.shared_limit(
        lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"],
        scope="sign-in-address",
        key_func=_address_key,
        deduct_when=_failed,
    )
    return per_address(per_account(fn))  # type: ignore[return-value]
