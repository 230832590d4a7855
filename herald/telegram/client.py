"""The one place that calls the Bot API: PTB ``Bot`` objects behind a synchronous, fork-safe facade.

PTB is asyncio; Herald's services and Celery tasks are synchronous. Each process runs one event loop in a
daemon thread with one shared HTTP connection pool, keeps a ``Bot`` per token, and hands calls to that loop,
so a send costs one HTTP request and no loop or client setup. ``call`` maps every failure to the typed
errors of ``herald.telegram.errors`` and records each call's outcome and latency.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import os
import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from telegram import Bot
from telegram import error as ptb_error
from telegram.request import HTTPXRequest

from herald.core.metrics import TELEGRAM_CALLS, TELEGRAM_LATENCY
from herald.telegram.errors import (
    TelegramBadRequest,
    TelegramError,
    TelegramHeldBack,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramSlotMissed,
    TelegramTimeout,
    error_from_response,
    map_ptb_error,
)

_METHOD_NAME = re.compile(r"^[a-zA-Z]{1,64}$")
_MAX_CACHED_BOTS = 2048
_CONNECTIONS_PER_POOL = 8


class _TypedFailure(ptb_error.TelegramError):
    """Carries our typed error through PTB, which re-raises its own error types untouched."""

    def __init__(self, error: TelegramError) -> None:
        super().__init__(error.description)
        self.error = error


class _GatewayRequest(HTTPXRequest):
    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        # Map failures here, where Telegram's JSON is still intact: PTB would rewrite the description
        # (dropping "Bad Request: " and changing its case).
        status, payload = await super().do_request(*args, **kwargs)
        if not 200 <= status <= 299:
            raise _TypedFailure(error_from_response(status, payload))
        return status, payload


class _GatewayBot(Bot):
    async def raw_call(self, method: str, params: dict[str, Any], read_timeout: float | None) -> Any:
        # ``_post`` is PTB's own path for every typed method: defaults, serialisation, error mapping in
        # ``BaseRequest._request_wrapper``; it returns Telegram's raw ``result``.
        return await self._post(method, api_kwargs=params, read_timeout=read_timeout)


class _Gateway:
    """One per process: the loop thread, the shared HTTP pools and the bots."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="telegram-gateway", daemon=True)
        self._thread.start()
        self._bots: OrderedDict[tuple[str, str, str], _GatewayBot] = OrderedDict()
        self._lock = threading.Lock()
        # More calls in flight than this only queue inside the HTTP pool, where they time out unsent, or at
        # the server; a call waits here instead, and its own deadline starts once it is sent.
        self.in_flight = asyncio.Semaphore(settings.TELEGRAM_MAX_IN_FLIGHT)
        # After a 429, the bot's sends wait out ``retry_after`` (monotonic deadline per token), as
        # Telegram asks: sends already scheduled in this process are held back instead of sent into it.
        self.flood_wait_until: dict[str, float] = {}
        self.requests, self.updates_request = self.run(self._make_requests(), timeout=10.0)

    @staticmethod
    async def _make_requests() -> tuple[list[_GatewayRequest], _GatewayRequest]:
        # Built inside the loop that will use them: httpx binds its pool to the running loop.
        timeout = settings.TELEGRAM_TIMEOUT_SECONDS
        common = {"connect_timeout": timeout, "write_timeout": timeout, "read_timeout": timeout}
        # TELEGRAM_CONNECTION_POOL_SIZE connections in pools of 8, not one large pool: for every request httpx
        # walks its pool's connections twice, and for each idle one counts all the others again, which with
        # dozens of connections cost more CPU than the request itself. A bot always uses the same pool: 8
        # connections carry its 30 messages a second even at a quarter of a second a request.
        pools = max(1, math.ceil(settings.TELEGRAM_CONNECTION_POOL_SIZE / _CONNECTIONS_PER_POOL))
        # one TLS context for all pools: each costs ~20 ms of CPU to build (the CA bundle is parsed)
        tls: dict[str, Any] = {"verify": httpx.create_ssl_context()}
        sends = [
            _GatewayRequest(
                connection_pool_size=_CONNECTIONS_PER_POOL,
                pool_timeout=timeout,
                media_write_timeout=max(timeout, 60.0),
                httpx_kwargs=tls,
                **common,
            )
            for _ in range(pools)
        ]
        updates = _GatewayRequest(connection_pool_size=8, pool_timeout=timeout, httpx_kwargs=tls, **common)
        return sends, updates

    def run(self, coroutine: Any, *, timeout: float) -> Any:
        if threading.current_thread() is self._thread:
            raise RuntimeError("the Telegram gateway cannot be called from its own event loop")
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def bot(self, token: str) -> _GatewayBot:
        key = (token, settings.TELEGRAM_API_BASE, settings.TELEGRAM_FILE_BASE)
        with self._lock:
            bot = self._bots.get(key)
            if bot is None:
                bot = _GatewayBot(
                    token,
                    base_url=settings.TELEGRAM_API_BASE,
                    base_file_url=settings.TELEGRAM_FILE_BASE,
                    request=self.requests[zlib.crc32(token.encode()) % len(self.requests)],
                    get_updates_request=self.updates_request,
                )
                self._bots[key] = bot
                if len(self._bots) > _MAX_CACHED_BOTS:
                    self._bots.popitem(last=False)
            else:
                self._bots.move_to_end(key)
            return bot


_gateway: _Gateway | None = None
_gateway_lock = threading.Lock()


def _current() -> _Gateway:
    global _gateway
    gateway = _gateway
    if gateway is not None and gateway.pid == os.getpid():
        return gateway
    with _gateway_lock:
        # A forked child (Celery prefork) inherits the parent's object but not its loop thread.
        if _gateway is None or _gateway.pid != os.getpid():
            _gateway = _Gateway()
        return _gateway


def _forget_after_fork() -> None:
    global _gateway, _gateway_lock
    _gateway = None
    _gateway_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def bot_for(token: str) -> Bot:
    """The cached PTB ``Bot`` for a token, for code that wants PTB's typed helpers (``Update.de_json``)."""
    return _current().bot(token)


# Methods that put a message in a chat (or change one) count against Telegram's flood limits.
PACED_METHOD_PREFIXES = ("send", "copy", "forward", "edit")


def is_paced_method(method: str) -> bool:
    return method.startswith(PACED_METHOD_PREFIXES)


def _check(token: str, method: str) -> None:
    if not _METHOD_NAME.match(method):
        raise TelegramBadRequest(f"not a Bot API method name: {method!r}")
    if not token:
        raise TelegramBadRequest("a bot token is required")


def _queue_timeout() -> float:
    """How long a call may wait for a free slot among the calls in flight before it gives up unsent."""
    return 3 * float(settings.TELEGRAM_TIMEOUT_SECONDS)


def _deadline(method: str, params: dict[str, Any]) -> float:
    """The longest a caller waits for one call: queued, sent, and answered within its timeouts."""
    return _queue_timeout() + _read_timeout(method, params) + 3 * settings.TELEGRAM_TIMEOUT_SECONDS + 2.0


def _read_timeout(method: str, params: dict[str, Any]) -> float:
    timeout = float(settings.TELEGRAM_TIMEOUT_SECONDS)
    if method == "getUpdates":
        timeout += float(params.get("timeout") or 0)  # long polling holds the answer back
    return timeout


async def _call_async(gateway: _Gateway, token: str, method: str, params: dict[str, Any]) -> Any:
    """One call on the gateway's loop: Telegram's result, or a typed error raised; counted either way."""
    try:
        await asyncio.wait_for(gateway.in_flight.acquire(), timeout=_queue_timeout())
    except TimeoutError:
        TELEGRAM_CALLS.labels(method=method, outcome="not_sent").inc()
        raise TelegramNetworkError(
            f"{method} not sent: {settings.TELEGRAM_MAX_IN_FLIGHT} calls were in flight for "
            f"{_queue_timeout():.0f} s"
        ) from None
    held = gateway.flood_wait_until.get(token, 0.0) - time.monotonic()
    if held > 0 and is_paced_method(method):
        gateway.in_flight.release()
        TELEGRAM_CALLS.labels(method=method, outcome=TelegramHeldBack.outcome).inc()
        raise TelegramHeldBack(
            held, f"not sent: the bot waits out Telegram's retry_after ({held:.1f} s left)"
        )
    started = time.perf_counter()
    outcome = "error"
    try:
        result = await asyncio.wait_for(
            gateway.bot(token).raw_call(method, params, _read_timeout(method, params)),
            timeout=_read_timeout(method, params) + 2 * settings.TELEGRAM_TIMEOUT_SECONDS + 1.0,
        )
        outcome = "ok"
        return result
    except _TypedFailure as exc:
        outcome = exc.error.outcome
        if isinstance(exc.error, TelegramRetryAfter):
            until = time.monotonic() + exc.error.seconds
            gateway.flood_wait_until[token] = max(until, gateway.flood_wait_until.get(token, 0.0))
        raise exc.error from None
    except ptb_error.TelegramError as exc:
        error = map_ptb_error(exc)
        outcome = error.outcome
        raise error from exc
    except TimeoutError as exc:
        outcome = "timeout"
        raise TelegramTimeout(f"no answer to {method} within the gateway's deadline") from exc
    finally:
        gateway.in_flight.release()
        TELEGRAM_CALLS.labels(method=method, outcome=outcome).inc()
        TELEGRAM_LATENCY.labels(method=method).observe(time.perf_counter() - started)


def call(token: str, method: str, /, **params: Any) -> Any:
    """Call Bot API ``method`` and return Telegram's ``result`` (a dict, list or bool).

    Raises a ``herald.telegram.errors.TelegramError`` subclass on any failure.
    """
    _check(token, method)
    gateway = _current()
    try:
        return gateway.run(_call_async(gateway, token, method, params), timeout=_deadline(method, params))
    except concurrent.futures.TimeoutError as exc:
        raise TelegramTimeout(f"no answer to {method} within the gateway's deadline") from exc


@dataclass(frozen=True)
class Call:
    """One call of a batch: made at ``at`` (epoch seconds, its pacing slot; at once if past), and only until
    ``not_after`` when given: a call the process comes to later than that answers ``TelegramSlotMissed``."""

    token: str
    method: str
    params: dict[str, Any]
    at: float = 0.0
    not_after: float | None = None


def call_many(calls: Sequence[Call]) -> list[Any | TelegramError]:
    """Make the calls concurrently on the gateway loop; each answer is the result or a typed error."""
    for item in calls:
        _check(item.token, item.method)
    gateway = _current()

    async def one(item: Call) -> Any:
        if (wait := item.at - time.time()) > 0:
            await asyncio.sleep(wait)
        if item.not_after is not None and (late := time.time() - item.not_after) > 0:
            TELEGRAM_CALLS.labels(method=item.method, outcome=TelegramSlotMissed.outcome).inc()
            return TelegramSlotMissed(0.0, f"not sent: {late * 1000:.0f} ms past its pacing slot")
        try:
            return await _call_async(gateway, item.token, item.method, item.params)
        except TelegramError as exc:
            return exc

    async def every() -> list[Any]:
        return list(await asyncio.gather(*(one(item) for item in calls)))

    now = time.time()
    longest = max(
        (max(0.0, item.at - now) + _deadline(item.method, item.params) for item in calls), default=0.0
    )
    results: list[Any | TelegramError] = gateway.run(every(), timeout=longest)
    return results
