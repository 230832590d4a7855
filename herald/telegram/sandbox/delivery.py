"""Webhook delivery: each bot's pending updates POSTed in order, with the secret header, retried with backoff.

Delivery never runs inside a request: a view posting to a webhook served by the same process would hold a
web thread waiting on another (and under an ASGI server, whose sync views share one thread, wait for
itself). A background thread in the web process does it (started lazily, one per process, reading pending
updates from the database, so a restart loses nothing).

Tests run with ``SANDBOX_DELIVERY_THREAD`` off and call :func:`deliver_pending_updates` from the test thread
after the action that made the update: it returns once every due update was POSTed (or failed once).
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from herald.telegram.sandbox.models import Bot, Update

logger = logging.getLogger(__name__)

_wake = threading.Event()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()
_LEASE_SECONDS = 120


def webhook_retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 1, 2, 4, … up to a minute."""
    return float(min(60, 2 ** max(0, attempts - 1)))


def delivery_wake() -> None:
    """An update was committed: wake local getUpdates waiters and the delivery thread."""
    from herald.telegram.sandbox.botapi import updates_arrived

    updates_arrived()
    _wake.set()
    if settings.SANDBOX_DELIVERY_THREAD:
        delivery_thread_ensure()


def delivery_thread_start_with_server() -> None:
    """Called where the web server loads Herald: start delivering when the sandbox and the thread are on."""
    if settings.HERALD_SANDBOX and settings.SANDBOX_DELIVERY_THREAD:
        delivery_thread_ensure()


def delivery_thread_ensure() -> None:
    """Start this process's delivery thread if it is not running."""
    global _thread
    if _thread is not None and _thread.is_alive():
        return
    with _thread_lock:
        if _thread is not None and _thread.is_alive():
            return
        _thread = threading.Thread(target=_delivery_loop, name="sandbox-webhook-delivery", daemon=True)
        _thread.start()


def _delivery_loop() -> None:
    while True:
        _wake.clear()
        try:
            deliver_pending_updates()
        except Exception:  # the loop must survive anything one round throws
            logger.exception("sandbox webhook delivery round failed")
        finally:
            close_old_connections()
        _wake.wait(timeout=settings.SANDBOX_DELIVERY_POLL_SECONDS)


def _lease_owner() -> str:
    return f"{os.getpid()}:{threading.get_ident()}"


def _lease(bot: Bot, owner: str) -> bool:
    now = timezone.now()
    return bool(
        Bot.objects.filter(id=bot.id)
        .filter(
            Q(delivery_lease_until__isnull=True)
            | Q(delivery_lease_until__lt=now)
            | Q(delivery_lease_owner=owner)
        )
        .update(delivery_lease_owner=owner, delivery_lease_until=now + timedelta(seconds=_LEASE_SECONDS))
    )


def _release(bot: Bot, owner: str) -> None:
    Bot.objects.filter(id=bot.id, delivery_lease_owner=owner).update(
        delivery_lease_owner="", delivery_lease_until=None
    )


def _describe_failure(error: Exception | None, response: httpx.Response | None) -> str:
    if response is not None:
        return f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}".strip()
    if isinstance(error, httpx.ConnectError):
        return "Connection refused"
    if isinstance(error, httpx.TimeoutException):
        return "Read timeout expired"
    return f"Network error: {error}"


def _post(client: httpx.Client, bot: Bot, update: Update) -> str | None:
    """POST one update; None when the webhook answered 2xx, otherwise what went wrong."""
    headers = {"Content-Type": "application/json"}
    if bot.webhook_secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = bot.webhook_secret_token
    try:
        response = client.post(bot.webhook_url, json=update.payload, headers=headers)
    except httpx.HTTPError as error:
        return _describe_failure(error, None)
    if 200 <= response.status_code < 300:
        return None
    return _describe_failure(None, response)


def _deliver_bot(client: httpx.Client, bot: Bot, *, ignore_backoff: bool) -> int:
    delivered = 0
    max_age = timedelta(seconds=settings.SANDBOX_WEBHOOK_MAX_AGE_SECONDS)
    while True:
        now = timezone.now()
        update = Update.objects.filter(bot=bot, state=Update.State.PENDING).order_by("update_id").first()
        if update is None:
            return delivered
        if now - update.created_at > max_age and update.attempts > 0:
            Update.objects.filter(id=update.id).update(state=Update.State.DROPPED)
            continue
        if not ignore_backoff and update.next_attempt_at is not None and update.next_attempt_at > now:
            return delivered  # the head waits for its retry, and the rest wait behind it, in order
        failure = _post(client, bot, update)
        if failure is None:
            Update.objects.filter(id=update.id).update(
                state=Update.State.DELIVERED,
                attempts=update.attempts + 1,
                delivered_at=timezone.now(),
                last_error="",
            )
            delivered += 1
            continue
        attempts = update.attempts + 1
        Update.objects.filter(id=update.id).update(
            attempts=attempts,
            last_error=failure[:512],
            next_attempt_at=timezone.now() + timedelta(seconds=webhook_retry_delay(attempts)),
        )
        Bot.objects.filter(id=bot.id).update(last_error_date=timezone.now(), last_error_message=failure[:512])
        logger.info("sandbox webhook of @%s failed (%s); retry %d pending", bot.username, failure, attempts)
        return delivered


def deliver_pending_updates(bot: str | Bot | None = None, *, ignore_backoff: bool = False) -> int:
    """POST every due pending update to its bot's webhook, in order per bot; how many were delivered.

    ``bot`` (a username or Bot) limits it to one bot. A failed delivery is tried again on a later call
    once its backoff has passed; ``ignore_backoff=True`` tries it again now (tests use it).
    """
    bots = Bot.objects.exclude(webhook_url="").filter(updates__state=Update.State.PENDING)
    if not ignore_backoff:
        bots = bots.filter(updates__next_attempt_at__lte=timezone.now())
    if isinstance(bot, Bot):
        bots = bots.filter(id=bot.id)
    elif bot is not None:
        bots = bots.filter(username__iexact=bot.removeprefix("@"))
    candidates = list(bots.distinct())
    if not candidates:
        return 0  # most rounds: no client to build (its TLS context alone costs milliseconds)
    owner = _lease_owner()
    delivered = 0
    with httpx.Client(timeout=settings.SANDBOX_WEBHOOK_TIMEOUT_SECONDS) as client:
        for candidate in candidates:
            if not _lease(candidate, owner):
                continue  # another process or thread is delivering this bot's queue
            try:
                delivered += _deliver_bot(client, candidate, ignore_backoff=ignore_backoff)
            finally:
                _release(candidate, owner)
    return delivered
