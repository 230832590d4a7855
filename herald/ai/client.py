"""The one module that talks to an OpenAI-compatible chat API (through the official ``openai`` SDK) and turns
its failures into our typed errors, each classified permanent or transient.

OpenAI, Groq, Ollama, vLLM and Herald's own sandbox twin all answer the same ``/chat/completions`` contract;
only ``AI_BASE_URL``, ``AI_API_KEY`` and ``AI_MODEL`` differ.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, TypedDict

import openai
from django.conf import settings

from herald.ai.metrics import AI_CALL_DURATION, AI_CALLS
from herald.core.errors import HeraldError

Role = Literal["system", "user", "assistant"]


class ChatMessage(TypedDict):
    role: Role
    content: str


class AIError(HeraldError):
    """A chat completion failed. ``permanent`` errors fail again if retried unchanged."""

    code = "ai_error"
    status = 502
    permanent = False

    def __init__(self, description: str, *, kind: str, retry_after: float | None = None) -> None:
        super().__init__(f"AI service: {description}")
        self.description = description
        self.kind = (
            kind  # timeout | connection | rate_limited | server_error | auth | forbidden | bad_request
        )
        self.retry_after = retry_after


class AIUnavailable(AIError):
    """Worth retrying: a timeout, a lost connection, a rate limit or a server error."""

    code = "ai_unavailable"


class AIRejected(AIError):
    """The service refused the request itself (bad key, no access, invalid request): retrying cannot help."""

    code = "ai_rejected"
    permanent = True


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    finish_reason: str


def _retry_after_seconds(exc: openai.APIStatusError) -> float | None:
    # OpenAI sends retry-after-ms (precise) and/or retry-after (seconds); either may be absent.
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None


def _status_description(exc: openai.APIStatusError) -> str:
    # The service's own words (``{"error": {"message": ...}}``) when it gave any, else the status line.
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return f"{inner['message']} (HTTP {exc.status_code})"
    return f"HTTP {exc.status_code}"


def map_openai_error(exc: BaseException) -> AIError:
    """Our typed error for an exception raised by the ``openai`` SDK (or the HTTP layer under it)."""
    if isinstance(exc, AIError):
        return exc
    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError: it derives from it
        return AIUnavailable("no answer in time", kind="timeout")
    if isinstance(exc, openai.APIConnectionError):
        return AIUnavailable(f"could not connect ({exc.message})", kind="connection")
    if isinstance(exc, openai.APIStatusError):
        description = _status_description(exc)
        status = exc.status_code
        if status == 429:
            return AIUnavailable(description, kind="rate_limited", retry_after=_retry_after_seconds(exc))
        if status in (408, 409) or status >= 500:
            return AIUnavailable(description, kind="server_error", retry_after=_retry_after_seconds(exc))
        if status == 401:
            return AIRejected(description, kind="auth")
        if status == 403:
            return AIRejected(description, kind="forbidden")
        return AIRejected(description, kind="bad_request")  # 400, 404 (unknown model), 422...
    if isinstance(exc, openai.APIResponseValidationError | openai.APIError):
        return AIUnavailable(f"unreadable answer ({exc})", kind="server_error")
    if isinstance(exc, TimeoutError):
        return AIUnavailable("no answer in time", kind="timeout")
    if isinstance(exc, OSError):
        return AIUnavailable(f"{type(exc).__name__}: {exc}", kind="connection")
    raise TypeError(f"not an AI service failure: {exc!r}") from exc


class ChatClient:
    """Chat completions from one OpenAI-compatible endpoint. Makes exactly one HTTP call per ``complete``:
    retries and backoff are the caller's decision (the SDK's own retries are switched off)."""

    def __init__(self, *, api_key: str, base_url: str, model: str, timeout: float) -> None:
        self.model = model
        self._sdk = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)

    def complete(self, *, messages: list[ChatMessage], temperature: float, max_tokens: int) -> Completion:
        started = time.perf_counter()
        try:
            completion = self._complete(messages=messages, temperature=temperature, max_tokens=max_tokens)
        except AIError as exc:
            AI_CALLS.labels(outcome=exc.kind).inc()
            raise
        finally:
            AI_CALL_DURATION.observe(time.perf_counter() - started)
        AI_CALLS.labels(outcome="ok").inc()
        return completion

    def _complete(self, *, messages: list[ChatMessage], temperature: float, max_tokens: int) -> Completion:
        try:
            response = self._sdk.chat.completions.create(
                model=self.model,
                messages=list(messages),  # type: ignore[arg-type]  # our TypedDict is the SDK's param shape
                temperature=temperature,
                max_tokens=max_tokens,
            )
        except (openai.OpenAIError, OSError) as exc:
            raise map_openai_error(exc) from exc
        if not response.choices:
            raise AIUnavailable("the answer had no choices", kind="server_error")
        choice = response.choices[0]
        return Completion(
            text=choice.message.content or "",
            model=response.model,
            finish_reason=str(choice.finish_reason or ""),
        )


def chat_client_from_settings() -> ChatClient:
    """The client configured by ``AI_API_KEY``, ``AI_BASE_URL``, ``AI_MODEL`` and ``AI_TIMEOUT_SECONDS``."""
    return ChatClient(
        api_key=settings.AI_API_KEY,
        base_url=settings.AI_BASE_URL,
        model=settings.AI_MODEL,
        timeout=settings.AI_TIMEOUT_SECONDS,
    )
