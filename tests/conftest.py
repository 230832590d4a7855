"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from django.core.cache import cache

# Personas (owner, member, outsider, staff) and bearer_client, for every app's permission tests.
from tests.personas import bearer_client, personas, staff_user  # noqa: F401


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()
