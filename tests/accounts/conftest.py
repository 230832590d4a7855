"""Helpers for the auth API tests."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import DEFAULT_PASSWORD, UserFactory

LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/refresh/"
LOGOUT = "/api/v1/auth/logout/"
PROFILE = "/api/v1/auth/profile/"


def post_json(client: Client, path: str, body: Any, *, remote_addr: str = "127.0.0.1", **headers: str) -> Any:
    return client.post(path, body, content_type="application/json", headers=headers, REMOTE_ADDR=remote_addr)


def login(
    client: Client, username: str, password: str = DEFAULT_PASSWORD, *, remote_addr: str = "127.0.0.1"
) -> Any:
    return post_json(client, LOGIN, {"username": username, "password": password}, remote_addr=remote_addr)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def alice(db: None) -> Any:
    return UserFactory(username="alice", email="Alice@Example.com", first_name="Alice", last_name="Liddell")


@pytest.fixture
def tokens(client: Client, alice: Any) -> dict[str, Any]:
    response = login(client, "alice")
    assert response.status_code == 200
    return response.json()
