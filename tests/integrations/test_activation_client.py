"""The production activation client against the sandbox twin, over real HTTP (a live Herald server)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from herald.integrations.activation.client import (
    ActivationClient,
    ActivationRejected,
    ActivationUnavailable,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox(live_server: Any, settings: Any) -> str:
    settings.ACTIVATION_TIMEOUT_SECONDS = 0.5
    return f"{live_server.url}/sandbox/activation"


def control(base: str, **behaviour: Any) -> dict[str, Any]:
    answer = httpx.post(f"{base}/control", json=behaviour, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_success_is_idempotent_by_reference_and_queryable(sandbox: str) -> None:
    client = ActivationClient(base_url=sandbox)
    first = client.activate(reference="tx-1", offer_code="DATA10", customer_id=7)
    assert first.status == "ACTIVATED" and first.external_reference.startswith("EXT-")
    control(sandbox, success_rate=0.0, failure_kind="reject")
    assert client.activate(reference="tx-1", offer_code="DATA10", customer_id=7) == first  # answered twice
    assert client.status(reference="tx-1") == first
    assert client.status(reference="never-sent") is None


def test_rejection_is_permanent(sandbox: str) -> None:
    control(sandbox, success_rate=0.0, failure_kind="reject")
    with pytest.raises(ActivationRejected) as rejected:
        ActivationClient(base_url=sandbox).activate(reference="tx-2", offer_code="X", customer_id=1)
    assert rejected.value.permanent is True
    assert "not available" in rejected.value.message


def test_server_errors_and_timeouts_are_transient(sandbox: str) -> None:
    control(sandbox, success_rate=0.0, failure_kind="error")
    client = ActivationClient(base_url=sandbox, timeout=0.5)
    with pytest.raises(ActivationUnavailable) as error:
        client.activate(reference="tx-3", offer_code="X", customer_id=1)
    assert (error.value.permanent, error.value.kind) == (False, "server_error")

    control(sandbox, failure_kind="timeout")
    with pytest.raises(ActivationUnavailable) as timeout:
        client.activate(reference="tx-4", offer_code="X", customer_id=1)
    assert timeout.value.kind == "timeout"

    nowhere = ActivationClient(base_url="http://127.0.0.1:9", timeout=0.5)
    with pytest.raises(ActivationUnavailable):
        nowhere.activate(reference="tx-5", offer_code="X", customer_id=1)


def test_a_lost_answer_is_found_by_the_retry(sandbox: str) -> None:
    control(sandbox, success_rate=0.0, failure_kind="lost")
    client = ActivationClient(base_url=sandbox)
    with pytest.raises(ActivationUnavailable):
        client.activate(reference="tx-6", offer_code="X", customer_id=1)
    assert client.activate(reference="tx-6", offer_code="X", customer_id=1).status == "ACTIVATED"


def test_control_endpoint_validates_and_resets(sandbox: str) -> None:
    assert httpx.post(f"{sandbox}/control", json={"success_rate": 2}, timeout=5).status_code == 400
    assert httpx.post(f"{sandbox}/control", json={"failure_kind": "boom"}, timeout=5).status_code == 400
    assert httpx.post(f"{sandbox}/control", content=b"[", timeout=5).status_code == 400
    assert control(sandbox, latency_ms=10)["latency_ms"] == 10
    assert httpx.delete(f"{sandbox}/control", timeout=5).json()["latency_ms"] == 0
    assert httpx.post(f"{sandbox}/activations", json={}, timeout=5).status_code == 400
