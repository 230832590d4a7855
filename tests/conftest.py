"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from celery._state import _set_task_join_will_block
from django.core.cache import cache

from herald.telegram.sandbox.services import sandbox_forget_process_state

# Fixture modules every app's tests may use: personas (owner, member, outsider, staff) and bearer_client;
# the Telegram sandbox's bots and users; the gateway pointed at the live sandbox, eager tasks, drain_outbox.
pytest_plugins = ["tests.personas", "tests.telegram.sandbox.fixtures", "tests.telegram.gateway_fixtures"]


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()
    # the Telegram sandbox keeps short-lived copies of bots and chats per process; a new test has new rows
    sandbox_forget_process_state()
    # Celery's eager mode keeps "inside a task, never call .get()" in one process-wide flag; eager tasks run
    # by two threads at once (race tests) can leave it set, failing a later test's .get() for nothing.
    _set_task_join_will_block(False)
