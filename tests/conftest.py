"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from herald.telegram.sandbox.services import sandbox_forget_process_state

# Personas (owner, member, outsider, staff) and bearer_client, for every app's permission tests.
from tests.personas import bearer_client, personas, staff_user  # noqa: F401


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()
    # the Telegram sandbox keeps short-lived copies of bots and chats per process; a new test has new rows
    sandbox_forget_process_state()
