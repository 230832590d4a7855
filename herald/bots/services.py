"""Every write of the bots app: bots and their webhooks, flows, broadcasts."""

from __future__ import annotations

import contextlib
import re
import secrets
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from herald.bots.flows import FlowValidationError, parse_flow
from herald.bots.handlers import SettingsApply, settings_hook_for
from herald.bots.ingest import forget_bot_key
from herald.bots.models import BotFlow, BotKind, BotUser, Broadcast, TelegramBot
from herald.core.crypto import token_fingerprint
from herald.core.errors import Conflict, InvalidInput, NotFound
from herald.telegram.client import call
from herald.telegram.errors import TelegramError, TelegramInvalidToken
from herald.telegram.services import outbox_enqueue_many

TOKEN_SHAPE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,100}$")
# what a flows bot needs from Telegram; my_chat_member tells us who blocked the bot
ALLOWED_UPDATES = {
    BotKind.FLOWS: ["message", "callback_query", "my_chat_member"],
    BotKind.STUDIO: ["message", "callback_query", "my_chat_member", "message_reaction_count", "channel_post"],
    BotKind.ALERTS: ["message", "callback_query", "my_chat_member"],
}


def token_check(*, token: str, bot: TelegramBot | None = None) -> dict[str, Any]:
    """Telegram's getMe for ``token``; refuses a token already registered or belonging to another bot."""
    fingerprint = token_fingerprint(token)
    taken = TelegramBot.objects.filter(token_fingerprint=fingerprint)
    if bot is not None:
        taken = taken.exclude(pk=bot.pk)
    if taken.exists():
        raise Conflict("token: this token is already registered.", code="token_registered")
    me = _get_me(token)
    if bot is not None and bot.telegram_id is not None and me.get("id") != bot.telegram_id:
        raise InvalidInput("token: this token belongs to another bot.", code="token_mismatch")
    return me


def _get_me(token: str) -> dict[str, Any]:
    if not TOKEN_SHAPE.match(token):
        raise InvalidInput(
            "token: this is not a bot token; it looks like 123456789:AAE... as BotFather gives it.",
            code="invalid_token",
        )
    try:
        return dict(call(token, "getMe"))
    except TelegramInvalidToken as exc:
        raise InvalidInput(
            "token: Telegram rejected this token (Unauthorized).", code="invalid_token"
        ) from exc
    except TelegramError as exc:
        raise InvalidInput(
            f"token: could not check it with Telegram: {exc.description}", code="telegram_unavailable"
        ) from exc


def bot_create(*, name: str, token: str, kind: str = BotKind.FLOWS) -> TelegramBot:
    """Register a bot after checking its token with getMe."""
    token = token.strip()
    me = token_check(token=token)
    try:
        return TelegramBot.objects.create(
            name=name.strip() or me.get("first_name", "bot"),
            token=token,
            token_fingerprint=token_fingerprint(token),
            telegram_id=me.get("id"),
            username=me.get("username", ""),
            kind=kind,
        )
    except IntegrityError as exc:  # registered concurrently
        raise Conflict("token: this token is already registered.", code="token_registered") from exc


def bot_get(*, bot_id: uuid.UUID) -> TelegramBot:
    bot = TelegramBot.objects.filter(pk=bot_id).first()
    if bot is None:
        raise NotFound(f"No bot with id {bot_id}.", code="bot_not_found")
    return bot


def bot_update(
    *,
    bot: TelegramBot,
    name: str | None = None,
    is_active: bool | None = None,
    token: str | None = None,
    kind: str | None = None,
    kind_settings: dict[str, dict[str, Any]] | None = None,
) -> TelegramBot:
    """Change a bot. ``kind_settings`` maps a kind to its settings block (``{"studio": {...}}``), checked and
    written by that kind's hook together with the bot, or not at all."""
    if name is not None:
        bot.name = name.strip()
    if is_active is not None:
        bot.is_active = is_active
    if token is not None and token_fingerprint(token.strip()) != bot.token_fingerprint:
        token = token.strip()
        token_check(token=token, bot=bot)
        bot.token, bot.token_fingerprint = token, token_fingerprint(token)
    kind_changed = kind is not None and kind != bot.kind
    if kind is not None:
        bot.kind = BotKind(kind)
    apply = _kind_settings_apply(bot, kind_settings or {}, kind_changed=kind_changed)
    with transaction.atomic():
        bot.save()
        if apply is not None:
            apply()
    forget_bot_key(bot.pk)
    if kind_changed and bot.is_webhook_set:
        bot_webhook_set(bot=bot)  # each kind asks Telegram for its own update types
    return bot


def _kind_settings_apply(
    bot: TelegramBot, blocks: dict[str, dict[str, Any]], *, kind_changed: bool
) -> SettingsApply | None:
    for block_kind in blocks:
        if block_kind != bot.kind:
            raise InvalidInput(
                f'{block_kind}: settings for a {block_kind} bot; this bot is a {bot.kind} bot (set "kind").',
                code="wrong_kind",
            )
    hook = settings_hook_for(bot.kind)
    block = blocks.get(bot.kind)
    if hook is None or (block is None and not kind_changed):
        return None
    return hook(bot, block)


def bot_delete(*, bot: TelegramBot) -> None:
    if bot.is_webhook_set:
        # the bot goes away either way; if this fails, Telegram stops once the webhook answers 404
        with contextlib.suppress(TelegramError):
            call(bot.token, "deleteWebhook")
    forget_bot_key(bot.pk)
    bot.delete()


def webhook_url_for(bot: TelegramBot) -> str:
    return f"{settings.HERALD_PUBLIC_URL}/api/webhook/{bot.pk}"


def bot_webhook_set(*, bot: TelegramBot) -> TelegramBot:
    """Point Telegram at this bot's webhook with a fresh secret token."""
    secret = secrets.token_urlsafe(32)
    url = webhook_url_for(bot)
    try:
        call(
            bot.token,
            "setWebhook",
            url=url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES.get(BotKind(bot.kind), ALLOWED_UPDATES[BotKind.FLOWS]),
            max_connections=40,
        )
    except TelegramError as exc:
        raise InvalidInput(
            f"Telegram refused the webhook: {exc.description}", code="webhook_refused"
        ) from exc
    bot.webhook_url = url
    bot.webhook_secret_fingerprint = token_fingerprint(secret)
    bot.is_webhook_set = True
    bot.save(update_fields=["webhook_url", "webhook_secret_fingerprint", "is_webhook_set", "updated_at"])
    forget_bot_key(bot.pk)
    return bot


def bot_webhook_delete(*, bot: TelegramBot) -> TelegramBot:
    try:
        call(bot.token, "deleteWebhook")
    except TelegramError as exc:
        raise InvalidInput(
            f"Telegram refused to remove the webhook: {exc.description}", code="webhook_refused"
        ) from exc
    bot.webhook_url = ""
    bot.webhook_secret_fingerprint = ""
    bot.is_webhook_set = False
    bot.save(update_fields=["webhook_url", "webhook_secret_fingerprint", "is_webhook_set", "updated_at"])
    forget_bot_key(bot.pk)
    return bot


def bot_webhook_info(*, bot: TelegramBot) -> dict[str, Any]:
    try:
        return dict(call(bot.token, "getWebhookInfo"))
    except TelegramError as exc:
        raise InvalidInput(
            f"Telegram did not answer getWebhookInfo: {exc.description}", code="telegram_error"
        ) from exc


# --- Flows ----------------------------------------------------------------------------------------


def _validated(flow_data: Any) -> Any:
    try:
        parse_flow(flow_data)
    except FlowValidationError as exc:
        raise InvalidInput(
            f"flow_data: {exc}",
            code="invalid_flow",
            errors=[
                {"field": f"flow_data.{path}" if path else "flow_data", "message": m}
                for path, m in exc.errors
            ],
        ) from exc
    return flow_data


def _clean_trigger(trigger: str) -> str:
    trigger = trigger.strip().lstrip("/")
    if trigger and not re.fullmatch(r"[A-Za-z0-9_]{1,32}", trigger):
        raise InvalidInput("trigger_command: letters, digits and _ only, at most 32.", code="invalid_trigger")
    return trigger.lower()


@transaction.atomic
def flow_save(
    *,
    bot: TelegramBot,
    flow: BotFlow | None = None,
    name: str,
    flow_data: Any,
    trigger_command: str = "",
    is_default: bool = False,
    is_active: bool = True,
) -> BotFlow:
    """Create (``flow`` None) or replace a flow; a new default flow takes over from the old one."""
    flow = flow or BotFlow(bot=bot)
    flow.name = name.strip()
    flow.flow_data = _validated(flow_data)
    flow.trigger_command = _clean_trigger(trigger_command)
    flow.is_default = is_default
    flow.is_active = is_active
    if is_default and is_active:
        BotFlow.objects.filter(bot=bot, is_default=True).exclude(pk=flow.pk).update(is_default=False)
    if flow.trigger_command and is_active:
        clash = BotFlow.objects.filter(bot=bot, trigger_command=flow.trigger_command, is_active=True).exclude(
            pk=flow.pk
        )
        if clash.exists():
            raise Conflict(
                f"trigger_command: /{flow.trigger_command} already starts another flow.", code="trigger_taken"
            )
    flow.save()
    return flow


def flow_delete(*, flow: BotFlow) -> None:
    flow.delete()


# --- Broadcasts -----------------------------------------------------------------------------------


@transaction.atomic
def broadcast_create(*, bot: TelegramBot, text: str, photo: str = "") -> Broadcast:
    """Queue one message per active user who has not blocked the bot; the gateway paces the sends."""
    if not text.strip():
        raise InvalidInput("text: a broadcast needs text.", code="empty_text")
    if photo and len(text) > 1024:
        raise InvalidInput("text: a photo caption can be at most 1024 characters.", code="caption_too_long")
    broadcast = Broadcast.objects.create(bot=bot, text=text, photo=photo)
    chat_ids = list(
        BotUser.objects.filter(bot=bot, is_active=True, is_blocked=False).values_list("chat_id", flat=True)
    )
    method, params = (
        ("sendPhoto", {"photo": photo, "caption": text}) if photo else ("sendMessage", {"text": text})
    )
    # one bulk insert sent by a few drain tasks; committed with the broadcast row, so never queued twice
    outbox_enqueue_many(
        token=bot.token,
        method=method,
        messages=[(chat_id, params) for chat_id in chat_ids],
        reference=broadcast_reference(broadcast),
    )
    broadcast.recipients = len(chat_ids)
    broadcast.save(update_fields=["recipients", "updated_at"])
    return broadcast


def broadcast_reference(broadcast: Broadcast) -> str:
    return f"bots.broadcast:{broadcast.pk}"


def bot_user_mark_blocked_by_fingerprint(*, bot_fingerprint: str, chat_id: int) -> None:
    """Telegram answered 403 for this chat: the user blocked the bot (they unblock by writing again)."""
    BotUser.objects.filter(bot__token_fingerprint=bot_fingerprint, chat_id=chat_id).update(is_blocked=True)
