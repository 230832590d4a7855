"""What the bots app learns from the gateway: a user who blocked the bot gets no more messages."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from herald.bots.services import bot_user_mark_blocked_by_fingerprint
from herald.telegram.errors import TelegramForbidden
from herald.telegram.signals import outbox_message_failed


@receiver(outbox_message_failed, dispatch_uid="bots-mark-blocked")
def _mark_blocked(sender: Any, message: Any, permanent: bool = False, **_: Any) -> None:
    if message.error_code == TelegramForbidden.code and message.chat_id.lstrip("-").isdigit():
        bot_user_mark_blocked_by_fingerprint(
            bot_fingerprint=message.bot_fingerprint, chat_id=int(message.chat_id)
        )
