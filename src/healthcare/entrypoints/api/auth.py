"""Signing in and out: tokens, refresh rotation, self-registration, the signed-in account."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response, current_app, request
from flask.views import MethodView
from flask_jwt_extended import get_jwt

from healthcare.application.commands import RegisterPatient
from healthcare.application.read_model import account_view, user_view
from healthcare.application.services import AccountService
from healthcare.application.services.accounts import family_key, token_key
from healthcare.domain.errors import AuthenticationFailed
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.routing import PUBLIC, documents, resource
from healthcare.entrypoints.api.schemas.auth import (
    AccountOut,
    CredentialsIn,
    LoginOut,
    LogoutIn,
    RefreshIn,
    RegisterIn,
    TokensOut,
)
from healthcare.entrypoints.api.schemas.common import IdempotencyHeaders
from healthcare.entrypoints.api.security import (
    FAMILY_CLAIM,
    ROLE_CLAIM,
    current_actor,
    decode_refresh_token,
    expiry_of,
    family_expiry,
    issue_tokens,
    signed_in,
)

blp = resource("auth", "/api/auth", "Sign-in with JWTs, refresh rotation, sign-out, sign-up.")

#: What a refresh token looks like, for the document's examples (it signs nothing real).
REFRESH_TOKEN_EXAMPLE = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0IiwidHlwZSI6InJlZnJlc2gifQ."
    "c2lnbmF0dXJlLW9mLWFuLWV4YW1wbGUtb25seQ"
)


@blp.route("/jwt/token/")
class Token(MethodView):
    @blp.doc(operationId="getTokens", security=PUBLIC)
    @blp.arguments(
        CredentialsIn,
        example={"email": "pat@example.com", "password": "patient-password-1"},
    )
    @blp.response(200, TokensOut)
    @documents(blp, 401, 429)
    @inject
    def post(
        self, credentials: dict[str, str], accounts: AccountService = Provide["account_service"]
    ) -> Response:
        """Get an access and a refresh token for an email and password"""
        return answer(_sign_in(accounts, credentials))


@blp.route("/login/")
class Login(MethodView):
    @blp.doc(operationId="signIn", security=PUBLIC)
    @blp.arguments(
        CredentialsIn,
        example={"email": "pat@example.com", "password": "patient-password-1"},
    )
    @blp.response(200, LoginOut)
    @documents(blp, 401, 429)
    @inject
    def post(
        self, credentials: dict[str, str], accounts: AccountService = Provide["account_service"]
    ) -> Response:
        """Sign in: tokens plus the signed-in user"""
        return answer(_sign_in(accounts, credentials, with_user=True))


def _sign_in(
    accounts: AccountService, credentials: dict[str, str], *, with_user: bool = False
) -> dict[str, Any]:
    """A new session (token family) for valid credentials; 401 otherwise, 429 while throttled.

    The client's address is the connection's, or the one the trusted proxies (``PROXY_HOPS``)
    saw."""
    user = accounts.authenticate(
        credentials["email"], credentials["password"], address=request.remote_addr or "-"
    )
    tokens: dict[str, Any] = issue_tokens(user.id, user.role)  # type: ignore[arg-type]
    return {**tokens, "user": user_view(user)} if with_user else tokens


@blp.route("/jwt/refresh/")
class Refresh(MethodView):
    @blp.doc(operationId="refreshTokens", security=PUBLIC)
    @blp.arguments(RefreshIn, example={"refresh": REFRESH_TOKEN_EXAMPLE})
    @blp.response(200, TokensOut)
    @documents(blp, 401)
    @inject
    def post(
        self, body: dict[str, str], accounts: AccountService = Provide["account_service"]
    ) -> Response:
        """Trade a refresh token for a new access and refresh token (each refresh token works once;
        reusing one revokes the whole session)"""
        claims = decode_refresh_token(body["refresh"])
        actor = accounts.actor_for(int(claims["sub"]))
        if claims.get(ROLE_CLAIM) != str(actor.role):
            raise AuthenticationFailed("The account's role changed; sign in again.")
        family = str(claims[FAMILY_CLAIM])
        accounts.spend_refresh_token(str(claims["jti"]), family, family_expiry())
        return answer(issue_tokens(actor.user_id, actor.role, family))  # type: ignore[arg-type]


@blp.route("/logout/")
class Logout(MethodView):
    @signed_in
    @blp.doc(operationId="signOut")
    @blp.arguments(LogoutIn, required=False, example={"refresh": REFRESH_TOKEN_EXAMPLE})
    @blp.response(204)
    @documents(blp, 401)
    @inject
    def post(
        self, body: dict[str, str], accounts: AccountService = Provide["account_service"]
    ) -> Response:
        """Sign out: revoke this access token, its session, and the refresh token if given"""
        access = get_jwt()
        keys = [token_key(access["jti"]), family_key(access[FAMILY_CLAIM])]
        if body.get("refresh"):
            refresh = decode_refresh_token(body["refresh"])
            if refresh.get("sub") != access.get("sub"):
                raise AuthenticationFailed("That refresh token belongs to someone else.")
            keys += [token_key(refresh["jti"]), family_key(refresh[FAMILY_CLAIM])]
        accounts.revoke(keys, max(expiry_of(access), family_expiry()))
        return current_app.response_class(status=204)


@blp.route("/register/")
class Register(MethodView):
    @blp.doc(operationId="registerPatient", security=PUBLIC)
    @blp.arguments(IdempotencyHeaders, location="headers")
    @blp.arguments(
        RegisterIn,
        example={
            "email": "pat@example.com",
            "password": "patient-password-1",
            "name": "Pat Lee",
            "phone": "+1 555 0100",
        },
    )
    @blp.response(201, AccountOut)
    @documents(blp, 409)
    @inject
    def post(
        self,
        headers: dict[str, Any],
        body: dict[str, Any],
        accounts: AccountService = Provide["account_service"],
    ) -> Response:
        """Sign up as a patient: a patient user and their profile; an Idempotency-Key makes
        retries safe"""
        account = accounts.register_patient(RegisterPatient(**body), headers.get("idempotency_key"))
        return answer(account_view(account.user, account.doctor, account.patient), 201)


@blp.route("/me/")
class Me(MethodView):
    @signed_in
    @blp.doc(operationId="getMyAccount")
    @blp.response(200, AccountOut)
    @documents(blp, 401)
    @inject
    def get(self, accounts: AccountService = Provide["account_service"]) -> Response:
        """The signed-in user and their doctor or patient profile"""
        return answer(accounts.account(current_actor()))
