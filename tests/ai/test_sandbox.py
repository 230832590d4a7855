"""The AI sandbox twin speaks OpenAI's contract: the official SDK reads its answers and its errors."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from herald.ai.client import AIError, AIRejected, AIUnavailable, ChatClient
from tests.ai.conftest import AISandbox

pytestmark = pytest.mark.django_db(transaction=True)


def sdk(sandbox: AISandbox) -> openai.OpenAI:
    return openai.OpenAI(api_key="any", base_url=f"{sandbox.base}/v1", max_retries=0, timeout=5)


def test_the_sdk_lists_models_and_reads_a_completion(ai_sandbox: AISandbox, settings: Any) -> None:
    assert [model.id for model in sdk(ai_sandbox).models.list()] == [settings.AI_MODEL]
    completion = sdk(ai_sandbox).chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "user", "content": "Format: promo\nLanguage: ru\nLimit: 1024\nKeywords: чай, мёд"}
        ],
    )
    assert completion.object == "chat.completion" and completion.choices[0].finish_reason == "stop"
    text = completion.choices[0].message.content or ""
    assert text.startswith("⚡ Акция: Чай") and "Мёд" in text
    assert completion.usage is not None and completion.usage.total_tokens > 0


@pytest.mark.parametrize(
    ("mode", "error", "kind"),
    [
        ("error_500", AIUnavailable, "server_error"),
        ("rate_limit", AIUnavailable, "rate_limited"),
        ("unauthorized", AIRejected, "auth"),
    ],
)
def test_errors_reach_the_client_typed(
    ai_sandbox: AISandbox, mode: str, error: type[AIError], kind: str
) -> None:
    ai_sandbox.control(mode=mode)
    client = ChatClient(api_key="k", base_url=f"{ai_sandbox.base}/v1", model="m", timeout=5)
    with pytest.raises(error) as raised:
        client.complete(messages=[{"role": "user", "content": "Keywords: x"}], temperature=0.5, max_tokens=50)
    assert raised.value.kind == kind
    assert raised.value.permanent is (error is AIRejected)


def test_a_bad_request_is_permanent(ai_sandbox: AISandbox) -> None:
    client = ChatClient(api_key="k", base_url=f"{ai_sandbox.base}/v1", model="m", timeout=5)
    with pytest.raises(AIRejected) as raised:
        client.complete(messages=[], temperature=0.5, max_tokens=50)
    assert raised.value.kind == "bad_request" and "non-empty array" in raised.value.message


def test_a_mode_with_times_falls_back_to_ok(ai_sandbox: AISandbox) -> None:
    assert ai_sandbox.control(mode="error_500", times=1)["mode"] == "error_500"
    url = f"{ai_sandbox.base}/v1/chat/completions"
    body = {"model": "m", "messages": [{"role": "user", "content": "Keywords: x"}]}
    assert httpx.post(url, json=body, timeout=5).status_code == 500
    assert httpx.post(url, json=body, timeout=5).status_code == 200
    assert ai_sandbox.state()["mode"] == "ok" and ai_sandbox.state()["requests"] == 2


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"mode": "haiku"}, "mode must be one of"),
        ({"times": 0}, "times"),
        ({"delay_seconds": -1}, "delay_seconds"),
        ({"retry_after_ms": "soon"}, "retry_after_ms"),
    ],
)
def test_control_refuses_bad_input_plainly(ai_sandbox: AISandbox, body: dict[str, Any], named: str) -> None:
    answer = httpx.post(f"{ai_sandbox.base}/control", json=body, timeout=5)
    assert answer.status_code == 400 and named in answer.json()["error"]["message"]
