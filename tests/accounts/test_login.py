"""POST /api/v1/auth/login/: credentials in, a token pair out; wrong ones 401; too many 429."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.test import Client, override_settings

from herald.accounts.models import TokenFamily
from tests.accounts.conftest import LOGIN, login, post_json

pytestmark = pytest.mark.django_db


def test_login_returns_a_bearer_pair_with_the_documented_claims(client: Client, alice: Any) -> None:
    response = login(client, "alice")

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.JWT_ACCESS_TTL_SECONDS
    access = jwt.decode(body["access_token"], settings.JWT_SIGNING_KEY, algorithms=["HS256"], issuer="herald")
    refresh = jwt.decode(
        body["refresh_token"], settings.JWT_SIGNING_KEY, algorithms=["HS256"], issuer="herald"
    )
    assert access["sub"] == refresh["sub"] == str(alice.pk)
    assert (access["type"], refresh["type"]) == ("access", "refresh")
    assert access["fid"] == refresh["fid"]
    assert access["jti"] != refresh["jti"]
    assert access["exp"] - access["iat"] == settings.JWT_ACCESS_TTL_SECONDS
    assert refresh["exp"] - refresh["iat"] == settings.JWT_REFRESH_TTL_SECONDS


@pytest.mark.parametrize("username", ["ALICE", "alice@example.com", "ALICE@EXAMPLE.COM", " alice "])
def test_login_accepts_username_or_email_in_any_case(client: Client, alice: Any, username: str) -> None:
    assert login(client, username).status_code == 200


def test_login_records_last_login(client: Client, alice: Any) -> None:
    assert alice.last_login is None
    login(client, "alice")
    alice.refresh_from_db()
    assert alice.last_login is not None


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "wrong password"),
        ("nobody", "correct-horse-battery-staple"),
        ("alice", "Correct-horse-battery-staple"),
    ],
    ids=["wrong-password", "unknown-user", "password-is-case-sensitive"],
)
def test_wrong_credentials_are_401_json(client: Client, alice: Any, username: str, password: str) -> None:
    response = login(client, username, password)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"code": "invalid_credentials", "message": "Wrong username or password."}


def test_inactive_user_cannot_log_in_even_with_the_right_password(client: Client, alice: Any) -> None:
    alice.is_active = False
    alice.save()

    response = login(client, "alice")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "x"}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": "", "password": "x"}, "username"),
        ({"username": "al\x00ice", "password": "x"}, "username"),
        ({"username": "alice", "password": "x" * 1025}, "password"),
        ({"username": ["alice"], "password": "x"}, "username"),
    ],
)
def test_bad_input_is_400_naming_the_field(client: Client, body: dict[str, Any], field: str) -> None:
    response = post_json(client, LOGIN, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_malformed_json_is_400(client: Client) -> None:
    response = client.post(LOGIN, b'{"username": ', content_type="application/json")

    assert response.status_code == 400
    assert "message" in response.json()


@override_settings(LOGIN_RATE_LIMIT="3/60")
def test_too_many_attempts_are_429_with_retry_after_even_with_the_right_password(
    client: Client, alice: Any
) -> None:
    for _ in range(3):
        assert login(client, "alice", "wrong").status_code == 401

    limited = login(client, "alice")

    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["retry_after"] == int(limited["Retry-After"])


@override_settings(LOGIN_RATE_LIMIT="3/60")
def test_rate_limit_is_per_username_and_client_ip(client: Client, alice: Any) -> None:
    for _ in range(3):
        login(client, "alice", "wrong", remote_addr="10.0.0.1")
    assert login(client, "alice", "wrong", remote_addr="10.0.0.1").status_code == 429
    # Same username from another address, and another username from the same address, still get in.
    assert login(client, "alice", remote_addr="10.0.0.2").status_code == 200
    assert login(client, "bob", "wrong", remote_addr="10.0.0.1").status_code == 401


@override_settings(LOGIN_RATE_LIMIT="3/60")
def test_rate_limit_counts_the_username_case_insensitively(client: Client, alice: Any) -> None:
    for name in ("alice", "ALICE", "Alice"):
        login(client, name, "wrong")
    assert login(client, "aLiCe", "wrong").status_code == 429


@override_settings(LOGIN_RATE_LIMIT="3/60")
def test_a_successful_login_resets_the_counter(client: Client, alice: Any) -> None:
    for _ in range(2):
        login(client, "alice", "wrong")
    assert login(client, "alice").status_code == 200

    for _ in range(3):
        assert login(client, "alice", "wrong").status_code == 401
    assert login(client, "alice", "wrong").status_code == 429


@override_settings(LOGIN_RATE_LIMIT="1/1")
def test_after_waiting_retry_after_the_user_can_log_in_again(client: Client, alice: Any) -> None:
    assert login(client, "alice", "wrong").status_code == 401
    limited = login(client, "alice")
    assert limited.status_code == 429

    time.sleep(float(limited["Retry-After"]) + 0.1)

    assert login(client, "alice").status_code == 200


def test_a_non_ip_remote_address_is_not_stored(client: Client, alice: Any) -> None:
    assert login(client, "alice", remote_addr="unix:/run/herald.sock").status_code == 200
    assert TokenFamily.objects.get(user=alice).client_ip is None
