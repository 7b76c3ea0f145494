"""Tokens and who is calling: JWT issuing and checks, the acting user, role decorators.

Every token carries a string ``sub`` (the user id), the user's ``role`` and a ``jti``; refresh
tokens and the access tokens issued with them share a family id ``fam``. A token without
``exp``, ``iat``, ``jti``, ``type`` or ``sub`` is refused, even signed with the real key: one
without ``exp`` would otherwise be good forever. Revocation keys
(``jti:<jti>``, ``fam:<fam>``) live in the database, so a revoked token is refused by every
process at once. The user behind a token is looked up on every request, so a deactivated user
or a changed role is refused with a still-valid token.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from dependency_injector.wiring import Provide, inject
from flask import Flask, current_app, g
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    decode_token,
    get_current_user,
    verify_jwt_in_request,
)
from flask_jwt_extended.default_callbacks import default_decode_key_callback
from jwt import MissingRequiredClaimError

from healthcare.application.services import AccountService
from healthcare.application.services.accounts import family_key, token_key
from healthcare.domain.actor import Actor
from healthcare.domain.errors import AuthenticationFailed, PermissionDenied
from healthcare.entrypoints.api.errors import error_response

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

ROLE_CLAIM = "role"
FAMILY_CLAIM = "fam"
#: Claims every token must carry (RFC 7519 names, and flask-jwt-extended's ``type``).
REQUIRED_CLAIMS = ("exp", "iat", "jti", "type", "sub")


# -- issuing ---------------------------------------------------------------------------------


def issue_tokens(user_id: int, role: str, family: str | None = None) -> dict[str, str]:
    """A fresh access + refresh pair; a new sign-in starts a new family."""
    claims = {ROLE_CLAIM: str(role), FAMILY_CLAIM: family or uuid.uuid4().hex}
    identity = str(user_id)
    return {
        "access": create_access_token(identity=identity, additional_claims=claims),
        "refresh": create_refresh_token(identity=identity, additional_claims=claims),
    }


def decode_refresh_token(token: str) -> dict[str, Any]:
    """The verified claims of a refresh token given in a body (signature, expiry, type)."""
    claims = decode_token(token)
    if claims.get("type") != "refresh" or not claims.get(FAMILY_CLAIM):
        raise AuthenticationFailed("Not a refresh token.")
    return claims


def expiry_of(claims: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(claims["exp"]), UTC)


def family_expiry() -> datetime:
    """A family lives as long as the newest refresh token it could still issue."""
    return datetime.now(UTC) + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]


# -- the acting user -------------------------------------------------------------------------


def current_actor() -> Actor:
    """The actor behind the request's access token (the views run after the JWT checks)."""
    # The object itself, not the ``current_user`` proxy: the use cases get a plain Actor, and
    # each attribute read does not go through werkzeug's context look-up again.
    actor = get_current_user()
    if not isinstance(actor, Actor):  # pragma: no cover - a view without @signed_in or @roles
        raise AuthenticationFailed("Sign in first.")
    return actor


def signed_in(fn: F) -> F:
    """Any signed-in user, whatever their role."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verify_jwt_in_request()
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def roles(*allowed: str) -> Callable[[F], F]:
    """Only these roles (403 for the others); ownership is the use cases' to check."""

    def decorator(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            verify_jwt_in_request()
            if str(current_actor().role) not in allowed:
                raise PermissionDenied(f"Only {' or '.join(allowed)} users may do this.")
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


# -- flask-jwt-extended configuration --------------------------------------------------------


def configure_jwt(app: Flask, jwt: JWTManager) -> None:
    """Register the loaders: required claims, revocation, user look-up, and every failure as a
    JSON 401."""
    jwt.decode_key_loader(_key_for_complete_claims)
    jwt.token_in_blocklist_loader(_is_revoked)
    jwt.user_lookup_loader(_look_up_actor)

    def unauthorized(reason: str) -> Any:
        return error_response(
            401, "Missing or malformed Authorization header: use 'Bearer <token>'."
        )

    def invalid(reason: str) -> Any:
        return error_response(401, "The token is invalid.")

    def expired(header: dict[str, Any], payload: dict[str, Any]) -> Any:
        return error_response(401, "The token has expired.")

    def revoked(header: dict[str, Any], payload: dict[str, Any]) -> Any:
        return error_response(401, "The token has been revoked.")

    def lookup_failed(header: dict[str, Any], payload: dict[str, Any]) -> Any:
        return error_response(401, "The account behind this token cannot sign in.")

    def not_fresh(header: dict[str, Any], payload: dict[str, Any]) -> Any:
        return error_response(401, "A fresh sign-in is required.")

    def verification_failed(header: dict[str, Any], payload: dict[str, Any]) -> Any:
        return error_response(401, "The token's claims are not accepted.")

    jwt.unauthorized_loader(unauthorized)
    jwt.invalid_token_loader(invalid)
    jwt.expired_token_loader(expired)
    jwt.revoked_token_loader(revoked)
    jwt.user_lookup_error_loader(lookup_failed)
    jwt.needs_fresh_token_loader(not_fresh)
    jwt.token_verification_failed_loader(verification_failed)


def _key_for_complete_claims(header: dict[str, Any], claims: dict[str, Any]) -> Any:
    """The verification key, for a token that carries every required claim.

    This is the one hook that sees the claims as they were signed: later ones see them after
    flask-jwt-extended has filled in ``type`` ("access") and ``jti`` (None) when missing. Any
    token refused here is refused again by the signature check; PyJWT's own error for a missing
    claim is answered like every invalid token (401, the common body).
    """
    for claim in REQUIRED_CLAIMS:
        if claims.get(claim) in (None, ""):
            raise MissingRequiredClaimError(claim)
    return default_decode_key_callback(header, claims)


@inject
def _is_revoked(
    header: dict[str, Any],
    payload: dict[str, Any],
    accounts: AccountService = Provide["account_service"],
) -> bool:
    """One look-up answers both loaders: revoked? (here) and who? (``_look_up_actor``)."""
    keys = [token_key(str(payload.get("jti", "")))]
    if payload.get(FAMILY_CLAIM):
        keys.append(family_key(str(payload[FAMILY_CLAIM])))
    try:
        user_id = int(payload["sub"])
    except (KeyError, TypeError, ValueError):
        user_id = None
    holder = accounts.token_holder(user_id, keys) if user_id is not None else None
    g.token_holder = holder
    return holder is not None and holder.revoked


def _look_up_actor(header: dict[str, Any], payload: dict[str, Any]) -> Actor | None:
    """None (401) for a deactivated user, or a token issued for a role the user no longer has."""
    holder = g.pop("token_holder", None)
    if holder is None:
        return None
    actor: Actor = holder.actor
    if payload.get(ROLE_CLAIM) != str(actor.role):
        log.info("token refused: role claim differs from user %s's current role", actor.user_id)
        return None
    return actor
