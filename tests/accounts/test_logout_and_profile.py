"""POST /api/v1/auth/logout/ ends a login (refresh and access tokens); GET /api/v1/auth/profile/."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.accounts.conftest import LOGOUT, PROFILE, REFRESH, bearer, login, post_json
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def assert_login_ended(client: Client, tokens: dict[str, Any]) -> None:
    refreshed = post_json(client, REFRESH, {"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401
    assert refreshed.json()["code"] == "token_revoked"
    profile = client.get(PROFILE, headers=bearer(tokens["access_token"]))
    assert profile.status_code == 401
    assert profile.json()["code"] == "token_revoked"


def test_logout_with_the_refresh_token_kills_refresh_and_access(
    client: Client, tokens: dict[str, Any]
) -> None:
    assert client.get(PROFILE, headers=bearer(tokens["access_token"])).status_code == 200  # cached as live

    response = post_json(client, LOGOUT, {"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 204
    assert_login_ended(client, tokens)


def test_logout_with_only_the_bearer_kills_the_login_too(client: Client, tokens: dict[str, Any]) -> None:
    response = client.generic("POST", LOGOUT, b"", headers=bearer(tokens["access_token"]))  # no body at all

    assert response.status_code == 204
    assert_login_ended(client, tokens)


def test_logout_is_idempotent(client: Client, tokens: dict[str, Any]) -> None:
    assert post_json(client, LOGOUT, {"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert post_json(client, LOGOUT, {"refresh_token": tokens["refresh_token"]}).status_code == 204


def test_logout_ends_only_that_login(client: Client, alice: Any) -> None:
    laptop = login(client, "alice").json()
    phone = login(client, "alice").json()

    post_json(client, LOGOUT, {"refresh_token": laptop["refresh_token"]})

    assert client.get(PROFILE, headers=bearer(phone["access_token"])).status_code == 200


@pytest.mark.parametrize("body", [{}, {"refresh_token": "not-a-jwt"}, {"refresh_token": None}])
def test_logout_without_a_valid_token_is_401(client: Client, body: dict[str, Any]) -> None:
    response = post_json(client, LOGOUT, body)

    assert response.status_code == 401
    assert response.json()["code"] in {"unauthorized", "invalid_token"}


def test_profile_describes_the_signed_in_user(client: Client, alice: Any) -> None:
    staff = UserFactory.create(
        username="sam", email="sam@example.com", staff=True, groups=["support", "editors"]
    )
    tokens = login(client, "sam").json()

    response = client.get(PROFILE, headers=bearer(tokens["access_token"]))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == staff.pk
    assert body["username"] == "sam"
    assert body["email"] == "sam@example.com"
    assert body["is_staff"] is True
    assert body["groups"] == ["editors", "support"]
    assert body["first_name"] == staff.first_name
    assert body["date_joined"].startswith(staff.date_joined.strftime("%Y-%m-%dT%H:%M"))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWxpY2U6eA=="},
        {"Authorization": "Bearer x.y.z"},
    ],
    ids=["none", "empty-bearer", "basic", "garbage"],
)
def test_profile_without_a_valid_bearer_is_401_json(client: Client, headers: dict[str, str]) -> None:
    response = client.get(PROFILE, headers=headers)

    assert response.status_code == 401
    assert set(response.json()) >= {"code", "message"}


def test_profile_refuses_a_refresh_token(client: Client, tokens: dict[str, Any]) -> None:
    response = client.get(PROFILE, headers=bearer(tokens["refresh_token"]))

    assert response.status_code == 401
    assert response.json()["code"] == "wrong_token_type"


@pytest.mark.parametrize("raw", [b"[null, null]", b"5", b'"token"'])
def test_logout_body_that_is_not_an_object_is_400(client: Client, raw: bytes) -> None:
    response = client.post(LOGOUT, raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
