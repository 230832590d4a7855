"""Hooks for callers to learn what became of their messages; each sends ``message`` (the outbox row).

``outbox_message_failed`` carries ``permanent=True`` with a ``TelegramForbidden`` error code when the user
blocked the bot, for example, so a domain app can mark that user blocked.
"""

from __future__ import annotations

from django.dispatch import Signal

outbox_message_sent = Signal()  # message
outbox_message_failed = Signal()  # message, permanent
outbox_chat_migrated = Signal()  # message, old_chat_id, new_chat_id
