"""Signing in and out with real JWTs: rotation, reuse detection, revocation, throttling."""

from __future__ import annotations

import time

import jwt as pyjwt
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.e2e.conftest import (
    PASSWORD,
    SECRET,
    Caller,
    Clinic,
    another_app,
    expect,
    sign_in,
)


def _claims(token: str) -> dict:
    return pyjwt.decode(token, SECRET, algorithms=["HS256"])


def test_a_token_pair_carries_the_user_role_family_and_id(clinic: Clinic) -> None:
    tokens = sign_in(clinic.client, "adams@clinic.test")
    assert set(tokens) == {"access", "refresh"}
    access, refresh = _claims(tokens["access"]), _claims(tokens["refresh"])
    assert access["sub"] == str(clinic.doctor.user_id) and access["role"] == "doctor"
    assert access["type"] == "access" and refresh["type"] == "refresh"
    assert access["jti"] != refresh["jti"] and access["fam"] == refresh["fam"]
    assert 14 * 60 <= access["exp"] - access["iat"] <= 15 * 60
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600
    assert pyjwt.get_unverified_header(tokens["access"])["alg"] == "HS256"


def test_login_answers_tokens_and_the_user(clinic: Clinic) -> None:
    body = expect(
        clinic.client.post(
            "/api/auth/login/", json={"email": "PAT@example.test", "password": PASSWORD}
        ),
        200,
    )
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"]["email"] == "pat@example.test" and body["user"]["role"] == "patient"
    assert "password" not in body["user"] and "password_hash" not in body["user"]


def test_bad_credentials_are_401(clinic: Clinic) -> None:
    for path in ("/api/auth/jwt/token/", "/api/auth/login/"):
        expect(
            clinic.client.post(
                path, json={"email": "pat@example.test", "password": "wrong-password"}
            ),
            401,
        )
        expect(
            clinic.client.post(path, json={"email": "nobody@example.test", "password": PASSWORD}),
            401,
        )


def test_me_shows_the_user_and_their_profile(clinic: Clinic) -> None:
    me = expect(clinic.patient.get("/api/auth/me/"), 200)
    assert me["user"]["id"] == clinic.patient.user_id
    assert me["patient"]["id"] == clinic.patient.patient_id and me["doctor"] is None
    doctor = expect(clinic.doctor.get("/api/auth/me"), 200)
    assert doctor["doctor"]["name"] == "Dr. Adams"


def test_self_registration_makes_a_patient_and_never_another_role(clinic: Clinic) -> None:
    account = expect(
        clinic.client.post(
            "/api/auth/register/",
            json={
                "email": "new@example.test",
                "password": PASSWORD,
                "name": "New Person",
                "insurance_id": "ABC-1",
                "date_of_birth": "1985-02-03",
            },
        ),
        201,
    )
    assert account["user"]["role"] == "patient"
    assert account["patient"]["insurance_id"] == "ABC-1"
    sneaky = {"email": "evil@example.test", "password": PASSWORD, "name": "Evil", "role": "admin"}
    errors = expect(clinic.client.post("/api/auth/register/", json=sneaky), 422)["errors"]
    assert "role" in str(errors)
    expect(
        clinic.client.post(
            "/api/auth/register/",
            json={"email": "NEW@example.test", "password": PASSWORD, "name": "Again"},
        ),
        409,
    )
    short = {"email": "short@example.test", "password": "short", "name": "Shorty"}
    assert (
        "password" in expect(clinic.client.post("/api/auth/register/", json=short), 422)["errors"]
    )


def test_missing_malformed_and_forged_tokens_are_401(clinic: Clinic) -> None:
    client = clinic.client
    expect(client.get("/api/auth/me/"), 401)
    expect(client.get("/api/auth/me/", headers={"Authorization": "Basic abc"}), 401)
    expect(client.get("/api/auth/me/", headers={"Authorization": "Bearer not.a.jwt"}), 401)
    forged = pyjwt.encode(
        {
            "sub": str(clinic.admin.user_id),
            "role": "admin",
            "type": "access",
            "jti": "x",
            "fam": "f",
        },
        "some-other-secret-of-sufficient-length",
        algorithm="HS256",
    )
    expect(client.get("/api/auth/me/", headers={"Authorization": f"Bearer {forged}"}), 401)
    unsigned = pyjwt.encode(
        {"sub": str(clinic.admin.user_id), "role": "admin", "type": "access", "jti": "y"},
        None,
        algorithm="none",
    )
    expect(client.get("/api/auth/me/", headers={"Authorization": f"Bearer {unsigned}"}), 401)
    expired = pyjwt.encode(
        {
            "sub": str(clinic.admin.user_id),
            "role": "admin",
            "type": "access",
            "jti": "z",
            "fam": "f",
            "exp": int(time.time()) - 60,
            "iat": int(time.time()) - 120,
        },
        SECRET,
        algorithm="HS256",
    )
    body = expect(client.get("/api/auth/me/", headers={"Authorization": f"Bearer {expired}"}), 401)
    assert "expired" in body["message"]


def test_a_refresh_token_is_not_an_access_token(clinic: Clinic) -> None:
    refresh = sign_in(clinic.client, "pat@example.test")["refresh"]
    expect(Caller(clinic.client, refresh).get("/api/auth/me/"), 401)
    access = sign_in(clinic.client, "pat@example.test")["access"]
    expect(clinic.client.post("/api/auth/jwt/refresh/", json={"refresh": access}), 401)


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_family(
    clinic: Clinic,
) -> None:
    client = clinic.client
    first = sign_in(client, "pat@example.test")
    second = expect(client.post("/api/auth/jwt/refresh/", json={"refresh": first["refresh"]}), 200)
    assert set(second) == {"access", "refresh"}
    assert _claims(second["refresh"])["fam"] == _claims(first["refresh"])["fam"]
    assert _claims(second["refresh"])["jti"] != _claims(first["refresh"])["jti"]
    expect(Caller(client, second["access"]).get("/api/auth/me/"), 200)

    # The first refresh token again: someone holds a copy. The whole session dies.
    expect(client.post("/api/auth/jwt/refresh/", json={"refresh": first["refresh"]}), 401)
    expect(client.post("/api/auth/jwt/refresh/", json={"refresh": second["refresh"]}), 401)
    expect(Caller(client, second["access"]).get("/api/auth/me/"), 401)
    expect(Caller(client, first["access"]).get("/api/auth/me/"), 401)
    # Other sessions of the same user are untouched.
    expect(clinic.patient.get("/api/auth/me/"), 200)


def test_logout_revokes_the_access_and_the_refresh_token(clinic: Clinic) -> None:
    client = clinic.client
    tokens = sign_in(client, "olive@example.test")
    caller = Caller(client, tokens["access"])
    assert caller.post("/api/auth/logout/", {"refresh": tokens["refresh"]}).status_code == 204
    expect(caller.get("/api/auth/me/"), 401)
    expect(client.post("/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]}), 401)
    expect(caller.post("/api/auth/logout/"), 401)
    expect(clinic.other_patient.get("/api/auth/me/"), 200)  # another session lives on


def test_logout_without_a_body_revokes_the_session(clinic: Clinic) -> None:
    tokens = sign_in(clinic.client, "olive@example.test")
    caller = Caller(clinic.client, tokens["access"])
    assert caller.post("/api/auth/logout/").status_code == 204
    expect(caller.get("/api/auth/me/"), 401)
    expect(clinic.client.post("/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]}), 401)


def test_a_revocation_is_seen_by_another_process(clinic: Clinic, app: Flask) -> None:
    """The blocklist lives in the database: a second app on the same database refuses too."""
    tokens = sign_in(clinic.client, "pat@example.test")
    assert Caller(clinic.client, tokens["access"]).post("/api/auth/logout/").status_code == 204
    with another_app(app) as other:
        expect(Caller(other.test_client(), tokens["access"]).get("/api/auth/me/"), 401)


def test_a_deactivated_user_is_refused_with_a_still_valid_token(clinic: Clinic) -> None:
    tokens = sign_in(clinic.client, "olive@example.test")
    expect(
        clinic.admin.patch(f"/api/users/{clinic.other_patient.user_id}/", {"is_active": False}), 200
    )
    expect(clinic.other_patient.get("/api/auth/me/"), 401)
    expect(clinic.client.post("/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]}), 401)
    expect(
        clinic.client.post(
            "/api/auth/jwt/token/", json={"email": "olive@example.test", "password": PASSWORD}
        ),
        401,
    )
    expect(
        clinic.admin.patch(f"/api/users/{clinic.other_patient.user_id}/", {"is_active": True}), 200
    )
    expect(clinic.other_patient.get("/api/auth/me/"), 200)


def test_a_token_whose_role_differs_from_the_users_role_is_refused(clinic: Clinic) -> None:
    now = int(time.time())
    elevated = pyjwt.encode(
        {
            "sub": str(clinic.patient.user_id),
            "role": "admin",
            "type": "access",
            "jti": "r1",
            "fam": "f1",
            "iat": now,
            "nbf": now,
            "exp": now + 600,
        },
        SECRET,
        algorithm="HS256",
    )
    expect(Caller(clinic.client, elevated).get("/api/users/"), 401)


def test_repeated_failed_logins_are_throttled_per_account(clinic: Clinic) -> None:
    client = clinic.client
    wrong = {"email": "pat@example.test", "password": "not-the-password"}
    for _ in range(5):
        expect(client.post("/api/auth/jwt/token/", json=wrong), 401)
    throttled = client.post("/api/auth/login/", json=wrong)  # the other endpoint shares the count
    expect(throttled, 429)
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    # Even the right password waits now, from this address; other accounts are unaffected.
    expect(client.post("/api/auth/jwt/token/", json={**wrong, "password": PASSWORD}), 429)
    sign_in(client, "olive@example.test")


def test_the_owner_signs_in_from_another_address_while_their_account_is_guessed(
    clinic: Clinic,
) -> None:
    """DECISIONS promises nobody is locked out by someone else's guessing: the guesser's
    address is locked out of the account, the owner's is not."""
    client = clinic.client
    wrong = {"email": "pat@example.test", "password": "not-the-password"}
    statuses = [client.post("/api/auth/jwt/token/", json=wrong).status_code for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    right = {**wrong, "password": PASSWORD}
    for _ in range(6):
        owner = client.post("/api/auth/login/", json=right, environ_base={"REMOTE_ADDR": "10.0.0.9"})
        expect(owner, 200)


def test_successful_logins_are_not_penalised(clinic: Clinic) -> None:
    for _ in range(12):
        sign_in(clinic.client, "pat@example.test")


def test_repeated_failed_logins_are_throttled_per_address(clinic: Clinic) -> None:
    client = clinic.client
    for n in range(20):
        expect(
            client.post(
                "/api/auth/jwt/token/", json={"email": f"u{n}@x.test", "password": "nope-nope"}
            ),
            401,
        )
    expect(
        client.post("/api/auth/jwt/token/", json={"email": "new@x.test", "password": "nope-nope"}),
        429,
    )
    other_address = client.post(
        "/api/auth/jwt/token/",
        json={"email": "pat@example.test", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    expect(other_address, 200)


def test_behind_a_trusted_proxy_the_client_address_is_throttled(app: Flask, clinic: Clinic) -> None:
    def attempt(client: FlaskClient, email: str, password: str, address: str) -> TestResponse:
        return client.post(
            "/api/auth/jwt/token/",
            json={"email": email, "password": password},
            headers={"X-Forwarded-For": address},
        )

    with another_app(app, proxy_hops=1) as proxied:
        client = proxied.test_client()
        for n in range(20):
            expect(attempt(client, f"u{n}@x.test", "nope-nope", "203.0.113.7"), 401)
        expect(attempt(client, "v@x.test", "nope-nope", "203.0.113.7"), 429)
        expect(attempt(client, "pat@example.test", PASSWORD, "198.51.100.1"), 200)
