"""Token attacks (OWASP API2): every forged, stale or revoked token is 401 on every operation.

Each attack makes a token the way an attacker would (a flipped signature byte, ``alg: none``,
another algorithm, an edited role claim re-signed with a guessed key or not at all, an expired
one, one revoked by sign-out or by reuse of its session's refresh token, one of a deactivated
user) and presents it to every operation the OpenAPI document says needs a token. Each answer
is 401 in the common error body, and nothing the token tried to do happened.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

from tests.e2e.conftest import SECRET, Caller, Clinic, expect, sign_in
from tests.security.surface import document, operations

Attack = Callable[[Clinic], str]


def _b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def _hmac(header: dict[str, Any], payload: dict[str, Any], key: str, digest: Any) -> str:
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    signature = hmac.new(key.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def _patient_claims(clinic: Clinic) -> dict[str, Any]:
    return _parts(sign_in(clinic.client, "pat@example.test")["access"])[1]


def tampered_signature(clinic: Clinic) -> str:
    header, payload, signature = sign_in(clinic.client, "admin@clinic.test")["access"].split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{header}.{payload}.{flipped}"


def role_edited_unsigned_payload(clinic: Clinic) -> str:
    """The patient's own token with ``role`` changed in place: the signature no longer fits."""
    header, claims, signature = _parts(sign_in(clinic.client, "pat@example.test")["access"])
    return f"{_b64(header)}.{_b64({**claims, 'role': 'admin'})}.{signature}"


def role_edited_resigned_with_a_guess(clinic: Clinic) -> str:
    claims = {**_patient_claims(clinic), "role": "admin"}
    return pyjwt.encode(claims, "secret", algorithm="HS256")


def alg_none(clinic: Clinic) -> str:
    claims = {**_patient_claims(clinic), "role": "admin"}
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def alg_none_capitalised(clinic: Clinic) -> str:
    return f"{_b64({'alg': 'None', 'typ': 'JWT'})}.{_b64(_patient_claims(clinic))}."


def hs512_with_the_real_key(clinic: Clinic) -> str:
    """Even signed with the server's own secret, an algorithm the server does not use fails."""
    return pyjwt.encode(_patient_claims(clinic), SECRET, algorithm="HS512")


def rs256_header_hmac_signed(clinic: Clinic) -> str:
    """Key confusion: the header claims RS256, the body is HMAC-signed with the secret."""
    return _hmac({"alg": "RS256", "typ": "JWT"}, _patient_claims(clinic), SECRET, hashlib.sha256)


def expired(clinic: Clinic) -> str:
    now = int(time.time())
    claims = {
        **_patient_claims(clinic),
        "iat": now - 3600,
        "nbf": now - 3600,
        "exp": now - 60,
    }
    return pyjwt.encode(claims, SECRET, algorithm="HS256")


def not_yet_valid(clinic: Clinic) -> str:
    now = int(time.time())
    claims = {
        **_patient_claims(clinic),
        "iat": now + 3600,
        "nbf": now + 3600,
        "exp": now + 7200,
    }
    return pyjwt.encode(claims, SECRET, algorithm="HS256")


def signed_with_the_real_key_but_no_expiry(clinic: Clinic) -> str:
    """Everything right but ``exp``: without the requirement, good forever."""
    claims = _patient_claims(clinic)
    del claims["exp"]
    return pyjwt.encode(claims, SECRET, algorithm="HS256")


def refresh_token_as_access(clinic: Clinic) -> str:
    return sign_in(clinic.client, "pat@example.test")["refresh"]


def revoked_by_logout(clinic: Clinic) -> str:
    tokens = sign_in(clinic.client, "pat@example.test")
    assert Caller(clinic.client, tokens["access"]).post("/api/auth/logout/").status_code == 204
    return tokens["access"]


def _reuse_refresh_token(clinic: Clinic) -> tuple[dict[str, str], dict[str, str]]:
    """Sign in, rotate the refresh token, then present the spent one again (refused): the
    first pair and the rotated pair of a session that reuse has just revoked."""
    first = sign_in(clinic.client, "pat@example.test")
    refresh = "/api/auth/jwt/refresh/"
    rotated = expect(clinic.client.post(refresh, json={"refresh": first["refresh"]}), 200)
    expect(clinic.client.post(refresh, json={"refresh": first["refresh"]}), 401)
    return first, rotated


def sibling_of_a_reused_refresh_token(clinic: Clinic) -> str:
    """Reusing a spent refresh token kills the session: the access token its rotation issued
    dies with it."""
    return _reuse_refresh_token(clinic)[1]["access"]


def of_a_deactivated_user(clinic: Clinic) -> str:
    token = sign_in(clinic.client, "olive@example.test")["access"]
    expect(
        clinic.admin.patch(f"/api/users/{clinic.other_patient.user_id}/", {"is_active": False}),
        200,
    )
    return token


def of_a_user_who_changed_role(clinic: Clinic) -> str:
    """A claim that was true when signed but is not any more (the user is looked up)."""
    claims = {
        **_parts(sign_in(clinic.client, "pat@example.test")["access"])[1],
        "role": "doctor",
    }
    return pyjwt.encode(claims, SECRET, algorithm="HS256")


def for_a_user_who_does_not_exist(clinic: Clinic) -> str:
    return pyjwt.encode({**_patient_claims(clinic), "sub": "999999"}, SECRET, algorithm="HS256")


ATTACKS: list[Attack] = [
    tampered_signature,
    role_edited_unsigned_payload,
    role_edited_resigned_with_a_guess,
    alg_none,
    alg_none_capitalised,
    hs512_with_the_real_key,
    rs256_header_hmac_signed,
    expired,
    not_yet_valid,
    signed_with_the_real_key_but_no_expiry,
    refresh_token_as_access,
    revoked_by_logout,
    sibling_of_a_reused_refresh_token,
    of_a_deactivated_user,
    of_a_user_who_changed_role,
    for_a_user_who_does_not_exist,
]


def _protected() -> list[tuple[str, str]]:
    """Every operation the document says needs a token."""
    paths = document()["paths"]
    return [(m, p) for m, p in operations() if paths[p][m.lower()].get("security") != []]


def _fill(path: str) -> str:
    """Path parameters as ids that exist in the clinic (1), so only the token can refuse."""
    return "/".join("1" if part.startswith("{") else part for part in path.split("/"))


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.__name__ for a in ATTACKS])
def test_a_bad_token_is_401_on_every_protected_operation(clinic: Clinic, attack: Attack) -> None:
    token = attack(clinic)
    before = _snapshot(clinic)
    caller = Caller(clinic.client, token)
    wrong = []
    for method, path in _protected():
        body = {} if method in ("POST", "PATCH", "PUT") else None
        response = caller.request(method, _fill(path), json=body)
        if response.status_code != 401:
            wrong.append((method, path, response.status_code))
            continue
        expect(response, 401)
    assert not wrong, f"{attack.__name__} was not refused: {wrong}"
    assert _snapshot(clinic) == before, "a refused token changed something"


def _snapshot(clinic: Clinic) -> dict[str, Any]:
    return {
        path: expect(clinic.admin.get(path), 200)
        for path in (
            "/api/users/",
            "/api/doctors/",
            "/api/appointments/",
            "/api/availabilities/",
        )
    }


def test_a_session_whose_refresh_token_was_reused_is_dead_in_every_token(
    clinic: Clinic,
) -> None:
    """The whole family: the first pair, the rotated pair, and the reuser's second attempt."""
    first, rotated = _reuse_refresh_token(clinic)
    for token in (first["access"], rotated["access"]):
        expect(Caller(clinic.client, token).get("/api/auth/me/"), 401)
    for refresh in (first["refresh"], rotated["refresh"]):
        expect(clinic.client.post("/api/auth/jwt/refresh/", json={"refresh": refresh}), 401)
    # A fresh sign-in is a new family and works.
    expect(
        Caller(clinic.client, sign_in(clinic.client, "pat@example.test")["access"]).get(
            "/api/auth/me/"
        ),
        200,
    )


@pytest.mark.parametrize(
    "attack",
    [
        tampered_signature,
        alg_none,
        hs512_with_the_real_key,
        expired,
        role_edited_resigned_with_a_guess,
    ],
    ids=lambda a: a.__name__,
)
def test_a_forged_refresh_token_gets_no_new_tokens(clinic: Clinic, attack: Attack) -> None:
    forged = attack(clinic)
    _header, claims, _ = _parts(forged)
    expect(clinic.client.post("/api/auth/jwt/refresh/", json={"refresh": forged}), 401)
    as_refresh = pyjwt.encode({**claims, "type": "refresh"}, "guessed-key", algorithm="HS256")
    expect(clinic.client.post("/api/auth/jwt/refresh/", json={"refresh": as_refresh}), 401)


def test_a_refresh_token_of_someone_else_does_not_sign_them_out(clinic: Clinic) -> None:
    """Logout with another user's refresh token is refused, and their session lives on."""
    olive = sign_in(clinic.client, "olive@example.test")
    expect(clinic.patient.post("/api/auth/logout/", {"refresh": olive["refresh"]}), 401)
    expect(Caller(clinic.client, olive["access"]).get("/api/auth/me/"), 200)


REQUIRED_CLAIMS = ["exp", "iat", "jti", "type", "sub"]


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_a_token_signed_with_the_real_key_but_missing_a_required_claim_is_401(
    clinic: Clinic, claim: str
) -> None:
    tokens = sign_in(clinic.client, "pat@example.test")
    for kind in ("access", "refresh"):
        claims = _parts(tokens[kind])[1]
        del claims[claim]
        token = pyjwt.encode(claims, SECRET, algorithm="HS256")
        body = expect(Caller(clinic.client, token).get("/api/auth/me/"), 401)
        assert body["message"] == "The token is invalid."
        expect(clinic.client.post("/api/auth/jwt/refresh/", json={"refresh": token}), 401)
    # The complete tokens of the same sign-in still work.
    expect(Caller(clinic.client, tokens["access"]).get("/api/auth/me/"), 200)
