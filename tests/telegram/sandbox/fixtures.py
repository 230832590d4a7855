"""Pytest fixtures for tests that talk to the sandbox; ``tests/telegram/conftest.py`` makes them visible."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.live_server_helper import LiveServer

from herald.telegram.sandbox.limits import limits_set
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_api_base, sandbox_bot, sandbox_user


@pytest.fixture
def sandbox_base_url(live_server: LiveServer) -> str:
    """``<live server>/sandbox/bot``, the Bot API base for clients under test."""
    return sandbox_api_base(live_server.url)


@pytest.fixture
def shop_bot(db: None) -> SandboxBot:
    return sandbox_bot("shop_bot", "Shop")


@pytest.fixture
def ann(db: None) -> int:
    return sandbox_user("Ann", username="ann")


@pytest.fixture
def sandbox_limits_off() -> Iterator[None]:
    """Telegram's limits off in this process for the test (as ``POST /sandbox/api/limits``)."""
    limits_set(enabled=False)
    yield
    limits_set(enabled=None)
