"""A request body over the size limit is refused with 413 naming the limit, not a vague 400."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

LIMIT = 1000


@pytest.fixture
def small_limit(settings: SettingsWrapper) -> int:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    return LIMIT


def _oversized() -> str:
    return json.dumps({"username": "ann", "password": "x" * (LIMIT * 2)})


def _assert_names_the_limit(response: Any) -> None:
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "payload_too_large"
    assert body["max_bytes"] == LIMIT
    assert f"{LIMIT} bytes" in body["message"]
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in body["message"]


@pytest.mark.django_db
def test_api_refuses_an_oversized_body_with_413_naming_the_limit(client: Client, small_limit: int) -> None:
    response = client.post("/api/v1/auth/login/", _oversized(), content_type="application/json")
    _assert_names_the_limit(response)


@pytest.mark.django_db
def test_webhook_refuses_an_oversized_update_with_413(client: Client, small_limit: int) -> None:
    response = client.post(
        f"/api/webhook/{uuid.uuid4()}",
        _oversized(),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": "secret"},
    )
    _assert_names_the_limit(response)


@pytest.mark.django_db
def test_api_oversized_body_is_413_in_debug_mode_too(
    client: Client, small_limit: int, settings: SettingsWrapper
) -> None:
    settings.DEBUG = True  # no traceback page instead
    response = client.post("/api/v1/auth/login/", _oversized(), content_type="application/json")
    _assert_names_the_limit(response)


@pytest.mark.django_db
def test_a_body_within_the_limit_is_still_read(client: Client, small_limit: int) -> None:
    response = client.post(
        "/api/v1/auth/login/", {"username": "ann", "password": "wrong"}, content_type="application/json"
    )
    assert response.status_code == 401
