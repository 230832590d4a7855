"""A lean ASGI path for the sandbox's Bot API hot path (sendMessage and friends at benchmark rates).

Under uvicorn, a request through Django's handler and its sync middleware hops between the event loop
and the one shared sync thread several times: about 4 ms of CPU per call. Bot API calls with a query
string, form or JSON body are answered here instead, handed to one database thread (see
``batching.py``) that runs the same ``bot_api_call`` the Django view runs. getUpdates long polls wait
here on the event loop,
holding no thread. Uploads (multipart) and anything unusual still go through Django, so both paths give
the same answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from django.conf import settings

from herald.core.metrics import HTTP_LATENCY, HTTP_REQUESTS
from herald.telegram.sandbox.batching import BatchingWorker
from herald.telegram.sandbox.spec import json_loads_strict

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

_PREFIX = "/sandbox/bot"
_ROUTE = "/sandbox/bot<str:token>/<str:method>"
_SIMPLE_BODIES = ("", "application/json", "application/x-www-form-urlencoded")
_LONG_POLL_MAX_SECONDS = 50
_LONG_POLL_CHECK_SECONDS = 0.2


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


def _run_call(token: str, method: str, raw: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    from herald.telegram.sandbox.botapi import bot_api_call

    try:
        return bot_api_call(token=token, method_name=method, raw=raw, files={})
    except Exception:  # a bug must still answer in Telegram's shape, and be logged
        logger.exception("sandbox Bot API call %s failed", method)
        return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}


def _has_pending_updates(token: str) -> bool:
    from herald.telegram.sandbox.botapi import bot_has_pending_updates

    return bot_has_pending_updates(token=token)


def _encode(status: int, body: dict[str, Any]) -> tuple[int, bytes]:
    return status, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class SandboxBotApiFastPath:
    """Wraps Herald's ASGI app; answers simple ``/sandbox/bot<token>/<method>`` requests itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.enabled = bool(settings.HERALD_SANDBOX)
        self.worker = BatchingWorker("sandbox-bot-api")
        if self.enabled and settings.SANDBOX_DELIVERY_THREAD:
            # The web server starts here: updates left pending by a previous run go out without
            # waiting for the first sandbox request.
            from herald.telegram.sandbox.delivery import delivery_thread_ensure

            delivery_thread_ensure()

    def _route(self, scope: Scope) -> tuple[str, str] | None:
        if not self.enabled or scope["type"] != "http" or scope["method"] not in ("GET", "POST"):
            return None
        path: str = scope["path"]
        if not path.startswith(_PREFIX) or _content_type(scope) not in _SIMPLE_BODIES:
            return None
        token, slash, method = path[len(_PREFIX) :].partition("/")
        if not slash or not token or not method or "/" in method:
            return None
        return unquote(token), method

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._route(scope)
        if route is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, body = await self._answer(scope, receive, *route)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        HTTP_REQUESTS.labels(method=scope["method"], route=_ROUTE, status=str(status)).inc()
        HTTP_LATENCY.labels(method=scope["method"], route=_ROUTE).observe(time.perf_counter() - started)

    async def _answer(self, scope: Scope, receive: Receive, token: str, method: str) -> tuple[int, bytes]:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return 400, b'{"ok":false,"error_code":400,"description":"Bad Request: client disconnected"}'
            chunk = message.get("body", b"")
            size += len(chunk)
            if limit is not None and size > limit:
                return 413, b'{"ok":false,"error_code":413,"description":"Request Entity Too Large"}'
            chunks.append(chunk)
            more = message.get("more_body", False)
        query = scope.get("query_string", b"").decode("latin-1")
        raw: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        body = b"".join(chunks)
        if body and scope["method"] == "POST":
            try:
                if _content_type(scope) == "application/json":
                    parsed = json_loads_strict(body)
                    if not isinstance(parsed, dict):
                        raise ValueError("the JSON body must be an object")
                    raw.update(parsed)
                else:
                    raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except (ValueError, UnicodeDecodeError) as error:
                description = json.dumps(f"Bad Request: can't parse request: {error}")
                return 400, f'{{"ok":false,"error_code":400,"description":{description}}}'.encode()
        if method.lower() == "getupdates":
            return await self._long_poll(token, method, raw)
        return _encode(*await self.worker.submit(_run_call, token, method, raw))

    async def _long_poll(self, token: str, method: str, raw: dict[str, Any]) -> tuple[int, bytes]:
        """getUpdates with ``timeout``: answer at once if there are updates, else wait on the event loop."""
        loop = asyncio.get_running_loop()
        try:
            wait = min(max(int(str(raw.get("timeout") or 0)), 0), _LONG_POLL_MAX_SECONDS)
        except ValueError:
            wait = 0  # the call below answers the type error
        now_only = {**raw, "timeout": 0}
        status, body = await self.worker.submit(_run_call, token, method, now_only)
        if status != 200 or body["result"] or wait == 0:
            return _encode(status, body)
        deadline = loop.time() + wait
        while loop.time() < deadline:
            await asyncio.sleep(min(_LONG_POLL_CHECK_SECONDS, max(0.0, deadline - loop.time())))
            if await self.worker.submit(_has_pending_updates, token):
                return _encode(*await self.worker.submit(_run_call, token, method, now_only))
        return _encode(status, body)
