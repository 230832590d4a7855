"""The AI sandbox twin served by a live Herald, with the production settings pointed at it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest


@dataclass
class AISandbox:
    base: str  # .../sandbox/ai
    sleeps: list[float] = field(default_factory=list)

    def control(self, **behaviour: Any) -> dict[str, Any]:
        answer = httpx.post(f"{self.base}/control", json=behaviour, timeout=5)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.base}/control", timeout=5).json()

    def sleep(self, seconds: float) -> None:
        # the backoff really waits; the delays are kept so tests can see their growth
        self.sleeps.append(seconds)
        time.sleep(seconds)


@pytest.fixture
def ai_sandbox(live_server: Any, settings: Any) -> AISandbox:
    base = f"{live_server.url}/sandbox/ai"
    settings.AI_API_KEY = "sandbox-key"
    settings.AI_BASE_URL = f"{base}/v1"
    settings.AI_TIMEOUT_SECONDS = 5.0
    settings.AI_MAX_ATTEMPTS = 3
    settings.AI_BACKOFF_SECONDS = 0.02
    settings.AI_MAX_REGENERATIONS = 2
    sandbox = AISandbox(base=base)
    httpx.delete(f"{base}/control", timeout=5)
    return sandbox
