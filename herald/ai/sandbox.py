"""The AI service's sandbox twin: an OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models`` served by
Herald at ``/sandbox/ai/``, answering in OpenAI's exact JSON shape so the real ``openai`` SDK reads it.

``POST /sandbox/ai/control`` ``{"mode": ..., "times": n, "delay_seconds": s, "retry_after_ms": ms}`` switches
what it answers: ``ok`` (a plausible post in the requested language, composed from the prompt's keywords),
``latin`` (transliterated Armenian), ``too_long`` (over 4096 characters), ``fenced`` (a good post wrapped in
a code fence and quotes), ``truncated`` (half a post, cut off at max_tokens), ``empty``, ``error_500``,
``rate_limit`` (429), ``timeout`` (answers after ``delay_seconds``), ``unauthorized`` (401). With ``times``
the mode holds for that many requests, then it is back to ``ok``. ``GET`` shows the state, the number of
requests and the last user message; ``DELETE`` resets. The state lives in the cache, so every web process
of one host answers alike.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from herald.ai.checks import post_limit
from herald.ai.templates import post_write_from_template
from herald.core.payloads import json_object

MODES = (
    "ok",
    "latin",
    "too_long",
    "truncated",
    "fenced",
    "empty",
    "error_500",
    "rate_limit",
    "timeout",
    "unauthorized",
)
_STATE_KEY = "sandbox:ai:state"
_STATE_SECONDS = 24 * 3600
_FORMATS = ("selling", "collection", "info", "promo")
_LATIN_POST = (
    "🔥 Nor apranq mer khanutum!\n\nSa lavaguyn yntrutyunn e: patvireq hima, grelov mez.\n\n"
    "✅ Orak\n✅ Arag araqum\n\n#nor #apranq"
)


def _default_state() -> dict[str, Any]:
    return {
        "mode": "ok",
        "times": None,
        "delay_seconds": 2.0,
        "retry_after_ms": 10,
        "requests": 0,
        "last_user_message": "",
    }


def sandbox_state() -> dict[str, Any]:
    state = _default_state()
    state.update(cache.get(_STATE_KEY) or {})
    return state


def _openai_error(status: int, message: str, *, kind: str, code: str | None) -> JsonResponse:
    # OpenAI's error envelope: the SDK puts body["error"] on the exception it raises
    return JsonResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}, status=status
    )


def _bad_request(message: str) -> JsonResponse:
    return _openai_error(400, message, kind="invalid_request_error", code=None)


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def control(request: HttpRequest) -> JsonResponse:
    """GET: the state; POST ``{mode, times?, delay_seconds?, retry_after_ms?}``: change it; DELETE: reset."""
    if request.method == "DELETE":
        cache.delete(_STATE_KEY)
        return JsonResponse(sandbox_state())
    if request.method == "POST":
        try:
            body = json_object(request.body)
        except ValueError as exc:
            return _bad_request(str(exc))
        state = sandbox_state()
        if "mode" in body:
            if body["mode"] not in MODES:
                return _bad_request(f"mode must be one of {', '.join(MODES)}.")
            state["mode"] = body["mode"]
            state["times"] = None
        if "times" in body:
            times = body["times"]
            if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
                return _bad_request("times must be a positive integer or null (for ever).")
            state["times"] = times
        if "delay_seconds" in body:
            delay = body["delay_seconds"]
            if not isinstance(delay, int | float) or isinstance(delay, bool) or not 0 <= delay <= 60:
                return _bad_request("delay_seconds must be a number from 0 to 60.")
            state["delay_seconds"] = float(delay)
        if "retry_after_ms" in body:
            retry_after = body["retry_after_ms"]
            if (
                not isinstance(retry_after, int)
                or isinstance(retry_after, bool)
                or not 0 <= retry_after <= 60_000
            ):
                return _bad_request("retry_after_ms must be an integer from 0 to 60000.")
            state["retry_after_ms"] = retry_after
        cache.set(_STATE_KEY, state, _STATE_SECONDS)
    return JsonResponse(sandbox_state())


def _mode_for_this_request(messages: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The mode answering this request, counting it and spending one of the mode's ``times``."""
    state = sandbox_state()
    mode = state["mode"]
    state["requests"] += 1
    # what the model was last told, so tests can see the feedback sent with a regeneration
    user_messages = [m.get("content") for m in messages if m.get("role") == "user"]
    state["last_user_message"] = str(user_messages[-1])[:4000] if user_messages else ""
    if state["times"] is not None:
        state["times"] -= 1
        if state["times"] <= 0:
            state["mode"], state["times"] = "ok", None
    cache.set(_STATE_KEY, state, _STATE_SECONDS)
    return mode, state


@require_GET
def models(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "object": "list",
            "data": [
                {"id": settings.AI_MODEL, "object": "model", "created": 0, "owned_by": "herald-sandbox"}
            ],
        }
    )


def _prompt_fact(messages: list[dict[str, Any]], label: str) -> str:
    pattern = re.compile(rf"^{label}: (.*)$", re.MULTILINE)
    for message in messages:
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            found = pattern.search(message["content"])
            if found:
                return found.group(1).strip()
    return ""


def _post_for(messages: list[dict[str, Any]]) -> str:
    """A plausible post from the prompt's facts, as a well-behaved model would write it."""
    language = _prompt_fact(messages, "Language")
    post_format = _prompt_fact(messages, "Format")
    limit_text = _prompt_fact(messages, "Limit")
    details = _prompt_fact(messages, "Details")
    return post_write_from_template(
        post_format=post_format if post_format in _FORMATS else "selling",  # type: ignore[arg-type]
        keywords=_prompt_fact(messages, "Keywords") or "նորույթ",
        details="" if details == "(none)" else details,
        language=language if language in ("hy", "ru", "en") else "hy",  # type: ignore[arg-type]
        limit=int(limit_text) if limit_text.isdigit() else post_limit("none"),
    )


def _completion(*, model: str, content: str, finish_reason: str = "stop") -> JsonResponse:
    completion_tokens = max(1, len(content) // 2)
    return JsonResponse(
        {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "herald-sandbox",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": 100,
                "completion_tokens": completion_tokens,
                "total_tokens": 100 + completion_tokens,
            },
        }
    )


@csrf_exempt
@require_POST
def chat_completions(request: HttpRequest) -> JsonResponse:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _bad_request("We could not parse the JSON body of your request.")
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return _bad_request("'messages' must be a non-empty array of objects.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return _bad_request("you must provide a model parameter")
    model = body["model"]

    mode, state = _mode_for_this_request(messages)
    if mode == "unauthorized":
        return _openai_error(
            401, "Incorrect API key provided.", kind="invalid_request_error", code="invalid_api_key"
        )
    if mode == "error_500":
        return _openai_error(
            500, "The server had an error while processing your request.", kind="server_error", code=None
        )
    if mode == "rate_limit":
        answer = _openai_error(
            429, "Rate limit reached for requests.", kind="requests", code="rate_limit_exceeded"
        )
        answer["retry-after-ms"] = str(state["retry_after_ms"])
        return answer
    if mode == "timeout":
        time.sleep(state["delay_seconds"])  # the client has given up by then
    post = _post_for(messages)
    if mode == "latin":
        return _completion(model=model, content=_LATIN_POST)
    if mode == "too_long":
        return _completion(model=model, content=(post + "\n\n") * (4200 // max(len(post), 1) + 2))
    if mode == "fenced":
        return _completion(model=model, content=f'```\n"{post}"\n```')
    if mode == "truncated":
        return _completion(model=model, content=post[: len(post) // 2], finish_reason="length")
    if mode == "empty":
        return _completion(model=model, content="")
    return _completion(model=model, content=post)
