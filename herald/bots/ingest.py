"""The webhook's fast path: check the secret, take each update once, record who wrote and what.

Everything here runs inside the webhook request, so it only writes a few rows and enqueues the
processing task; replies are decided by the worker (``herald.bots.processing``).
"""

from __future__ import annotations

import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from herald.bots.models import BotMessage, BotUser, InboundUpdate, MessageDirection, TelegramBot, UpdateStatus
from herald.core.crypto import token_fingerprint
from herald.core.errors import Forbidden, InvalidInput, NotFound, Unauthorized

# the update kinds a bot acts on (reaction counts: a studio's channel analytics); the rest is acknowledged
PROCESSED_KINDS = frozenset({"message", "callback_query", "message_reaction_count"})
SECRET_CACHE_SECONDS = 30


@dataclass(frozen=True)
class WebhookResult:
    update_id: int
    duplicate: bool
    kind: str


@dataclass(frozen=True)
class _BotKey:
    id: uuid.UUID
    secret_fingerprint: str


def _bot_key(bot_id: uuid.UUID) -> _BotKey:
    """The bot's webhook secret fingerprint, cached briefly: this runs on every update."""
    cache_key = f"bots:webhook-key:{bot_id}"
    cached = cache.get(cache_key)
    if cached is None:
        row = (
            TelegramBot.objects.filter(pk=bot_id, is_active=True)
            .values_list("webhook_secret_fingerprint", flat=True)
            .first()
        )
        cached = row if row is not None else ""
        cache.set(cache_key, cached, SECRET_CACHE_SECONDS)
    if not cached:
        raise NotFound("No active bot has this webhook.", code="unknown_bot")
    return _BotKey(id=bot_id, secret_fingerprint=cached)


def forget_bot_key(bot_id: uuid.UUID) -> None:
    cache.delete(f"bots:webhook-key:{bot_id}")


def update_kind(payload: dict[str, Any]) -> str:
    return next((key for key in payload if key != "update_id"), "unknown")


def _sender_and_chat(kind: str, body: dict[str, Any]) -> tuple[dict[str, Any] | None, int | None]:
    if kind == "callback_query":
        message = body.get("message") or {}
        return body.get("from"), (message.get("chat") or {}).get("id")
    return body.get("from"), (body.get("chat") or {}).get("id")


def message_type(message: dict[str, Any]) -> str:
    text = message.get("text") or ""
    if text.startswith("/"):
        return "command"
    for kind in (
        "text",
        "photo",
        "video",
        "animation",
        "document",
        "voice",
        "audio",
        "sticker",
        "contact",
        "location",
    ):
        if kind in message:
            return kind
    return "other"


def _file_id(message: dict[str, Any]) -> str:
    if message.get("photo"):
        return str(message["photo"][-1].get("file_id", ""))
    for kind in ("video", "animation", "document", "voice", "audio", "sticker"):
        if isinstance(message.get(kind), dict):
            return str(message[kind].get("file_id", ""))
    return ""


def parse_update(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The update is not valid JSON: {exc}", code="invalid_update") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
        raise InvalidInput("An update is a JSON object with an integer update_id.", code="invalid_update")
    return payload


def webhook_receive(*, bot_id: uuid.UUID, secret: str | None, body: bytes) -> WebhookResult:
    """Accept one update from Telegram. Raises NotFound / Unauthorized / Forbidden / InvalidInput."""
    key = _bot_key(bot_id)
    if not secret:
        raise Unauthorized("The X-Telegram-Bot-Api-Secret-Token header is missing.", code="missing_secret")
    if not key.secret_fingerprint or not hmac.compare_digest(
        token_fingerprint(secret), key.secret_fingerprint
    ):
        raise Forbidden("The X-Telegram-Bot-Api-Secret-Token header is wrong.", code="wrong_secret")
    payload = parse_update(body)
    kind = update_kind(payload)
    content = payload.get(kind)
    inner: dict[str, Any] = content if isinstance(content, dict) else {}
    sender, chat_id = _sender_and_chat(kind, inner)

    with transaction.atomic():
        try:
            with transaction.atomic():
                update = InboundUpdate.objects.create(
                    bot_id=bot_id,
                    update_id=payload["update_id"],
                    chat_id=chat_id,
                    kind=kind,
                    payload=payload,
                    status=UpdateStatus.RECEIVED if kind in PROCESSED_KINDS else UpdateStatus.IGNORED,
                )
        except IntegrityError:
            return WebhookResult(update_id=payload["update_id"], duplicate=True, kind=kind)
        TelegramBot.objects.filter(pk=bot_id).update(request_count=F("request_count") + 1)
        if sender and chat_id is not None and chat_id > 0:
            user = _record_user(bot_id, chat_id, sender)
            if kind == "message":
                BotMessage.objects.create(
                    bot_id=bot_id,
                    user=user,
                    message_type=message_type(inner),
                    direction=MessageDirection.INCOMING,
                    text=inner.get("text") or inner.get("caption") or "",
                    file_id=_file_id(inner),
                    telegram_message_id=inner.get("message_id"),
                )
            elif kind == "my_chat_member":
                status = (inner.get("new_chat_member") or {}).get("status")
                BotUser.objects.filter(pk=user.pk).update(is_blocked=status in ("kicked", "left"))
        if update.status == UpdateStatus.RECEIVED:
            from herald.bots.tasks import bot_update_process_task

            transaction.on_commit(lambda: bot_update_process_task.delay(update.pk))
    return WebhookResult(update_id=payload["update_id"], duplicate=False, kind=kind)


def _record_user(bot_id: uuid.UUID, chat_id: int, sender: dict[str, Any]) -> BotUser:
    fields = {
        "username": (sender.get("username") or "")[:64],
        "first_name": (sender.get("first_name") or "")[:128],
        "last_name": (sender.get("last_name") or "")[:128],
        "language": (sender.get("language_code") or "")[:16],
    }
    user, created = BotUser.objects.get_or_create(bot_id=bot_id, chat_id=chat_id, defaults=fields)
    if created:
        TelegramBot.objects.filter(pk=bot_id).update(user_count=F("user_count") + 1)
    else:
        BotUser.objects.filter(pk=user.pk).update(last_interaction=timezone.now(), is_blocked=False, **fields)
    return user
