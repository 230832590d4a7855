"""Bots tests run against the sandbox over real HTTP, with Celery tasks run inline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from herald.accounts.models import User


@pytest.fixture
def telegram(gateway: str, eager_tasks: None, settings: SettingsWrapper) -> str:
    """The gateway talks to the live sandbox, tasks run inline, and Telegram calls Herald's webhooks there."""
    settings.HERALD_PUBLIC_URL = gateway
    return gateway


class Api:
    """A staff API client speaking JSON."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(path, query)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(path, body if body is not None else {}, content_type="application/json")

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(path, body, content_type="application/json")

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(path, body, content_type="application/json")

    def delete(self, path: str) -> Any:
        return self.client.delete(path)


@pytest.fixture
def api(staff_user: User, bearer_client: Callable[[User], Client]) -> Api:
    return Api(bearer_client(staff_user))
