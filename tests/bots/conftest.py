"""Bots tests run against the sandbox over real HTTP, with Celery tasks run inline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from config.celery import app as celery_app
from herald.accounts.models import User
from tests.telegram.sandbox.fixtures import *  # noqa: F403  (sandbox bots and users)


@pytest.fixture
def telegram(live_server: LiveServer, settings: SettingsWrapper) -> Iterator[str]:
    """Herald talks to the sandbox on the live server, and Telegram calls Herald's webhooks there."""
    settings.TELEGRAM_API_BASE = f"{live_server.url}/sandbox/bot"
    settings.TELEGRAM_FILE_BASE = f"{live_server.url}/sandbox/file/bot"
    settings.HERALD_PUBLIC_URL = live_server.url
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield live_server.url
    celery_app.conf.task_always_eager = eager


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
