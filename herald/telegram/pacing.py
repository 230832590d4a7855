"""Pacing of sends so Telegram never has to answer 429: per bot 30/s, per private chat 1/s, per group or
channel 20/min, with token buckets shared by every process (``herald.core.ratelimit``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from herald.core import ratelimit
from herald.core.crypto import token_fingerprint
from herald.telegram import client
from herald.telegram.client import is_paced_method
from herald.telegram.errors import TelegramRetryAfter


def is_private_chat(chat_id: int | str) -> bool:
    """Private chats have positive ids; groups and channels negative ones (or ``@username``)."""
    text = str(chat_id)
    return not (text.startswith("-") or text.startswith("@"))


def chat_rate_per_second(chat_id: int | str) -> float:
    if is_private_chat(chat_id):
        return float(settings.TELEGRAM_LIMIT_PER_PRIVATE_CHAT) * settings.TELEGRAM_PACING_HEADROOM
    return float(settings.TELEGRAM_LIMIT_PER_GROUP) * settings.TELEGRAM_GROUP_PACING_HEADROOM


def bot_rate_per_second() -> float:
    return float(settings.TELEGRAM_LIMIT_PER_BOT) * settings.TELEGRAM_PACING_HEADROOM


def bot_bucket(bot_fingerprint: str) -> str:
    return f"tg:bot:{bot_fingerprint}"


def chat_bucket(bot_fingerprint: str, chat_id: int | str) -> str:
    return f"tg:chat:{bot_fingerprint}:{chat_id}"


def reserve_chat(*, bot_fingerprint: str, chat_id: int | str, cost: int = 1) -> float:
    """Book the chat's next slot; seconds until it."""
    if not settings.TELEGRAM_PACING:
        return 0.0
    return ratelimit.reserve(
        chat_bucket(bot_fingerprint, chat_id), rate_per_second=chat_rate_per_second(chat_id), cost=cost
    )


def reserve_chats(*, bot_fingerprint: str, chats: Sequence[tuple[int | str, int]]) -> list[float]:
    """Book the next slot of each ``(chat_id, cost)`` in one go (a batch's chats); seconds until each."""
    if not settings.TELEGRAM_PACING:
        return [0.0] * len(chats)
    return ratelimit.reserve_many(
        [
            ratelimit.Booking(
                chat_bucket(bot_fingerprint, chat_id),
                rate_per_second=chat_rate_per_second(chat_id),
                cost=cost,
            )
            for chat_id, cost in chats
        ]
    )


def reserve_bot(*, bot_fingerprint: str, cost: int = 1) -> float:
    """Book the bot's next slot; seconds until it."""
    if not settings.TELEGRAM_PACING:
        return 0.0
    return ratelimit.reserve(bot_bucket(bot_fingerprint), rate_per_second=bot_rate_per_second(), cost=cost)


def hold_bot(*, bot_fingerprint: str, seconds: float) -> None:
    """Telegram answered 429: no process books the bot a slot sooner than ``seconds`` from now."""
    if settings.TELEGRAM_PACING and seconds > 0:
        ratelimit.reserve(bot_bucket(bot_fingerprint), rate_per_second=bot_rate_per_second(), after=seconds)


def wait_for_send_slot(*, bot_fingerprint: str, chat_id: int | str | None, cost: int = 1) -> None:
    """Sleep until the chat's slot, then until the bot's.

    The bot's slot is booked only once the chat's has come: booking it ahead would hold the bot's whole
    bucket (every other chat) back until then.
    """
    if chat_id is not None:
        chat_wait = reserve_chat(bot_fingerprint=bot_fingerprint, chat_id=chat_id, cost=cost)
        if chat_wait > 0:
            time.sleep(chat_wait)
    bot_wait = reserve_bot(bot_fingerprint=bot_fingerprint, cost=cost)
    if bot_wait > 0:
        time.sleep(bot_wait)


def send_now(
    token: str, method: str, /, *, bot_fingerprint: str | None = None, max_retries: int = 3, **params: Any
) -> Any:
    """A paced call made right away (not through the outbox): waits for its slot, and on a 429 that still
    comes waits ``retry_after`` and tries again, at most ``max_retries`` times.
    """
    chat_id = params.get("chat_id")
    fingerprint = bot_fingerprint or token_fingerprint(token)
    for attempt in range(max_retries + 1):
        if is_paced_method(method):
            wait_for_send_slot(bot_fingerprint=fingerprint, chat_id=chat_id)
        try:
            return client.call(token, method, **params)
        except TelegramRetryAfter as exc:
            if attempt == max_retries:
                raise
            time.sleep(exc.seconds)
    raise AssertionError("unreachable")  # pragma: no cover
