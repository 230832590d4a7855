"""Short-lived per-process copies of bots and chats, so the Bot API hot path reads the database rarely.

Entries live ``SANDBOX_CACHE_SECONDS``; changes made in this process drop them at once, changes made by
another process show up when they expire.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from herald.telegram.sandbox.errors import bad_request
from herald.telegram.sandbox.models import Bot, Chat


@dataclass(frozen=True, slots=True)
class ChatEntry:
    chat: Chat
    admin_ids: frozenset[int]


_lock = threading.Lock()
_bots: dict[str, tuple[float, Bot]] = {}
_chats: dict[int | str, tuple[float, ChatEntry]] = {}


def registry_clear() -> None:
    with _lock:
        _bots.clear()
        _chats.clear()


def bot_by_token(token: str) -> Bot | None:
    now = time.monotonic()
    cached = _bots.get(token)
    if cached is not None and cached[0] > now:
        return cached[1]
    if "\x00" in token:  # no token has one, and PostgreSQL refuses it in a query
        return None
    bot = Bot.objects.filter(token=token).only("id", "token", "username", "first_name").first()
    if bot is not None:
        with _lock:
            _bots[token] = (now + settings.SANDBOX_CACHE_SECONDS, bot)
    return bot


def bot_forget(token: str) -> None:
    with _lock:
        _bots.pop(token, None)


def chat_lookup(chat_ref: int | str) -> ChatEntry:
    """The chat for a ``chat_id`` (a number or ``@username``), or 400 "chat not found"."""
    key: int | str = chat_ref.lower() if isinstance(chat_ref, str) else chat_ref
    now = time.monotonic()
    cached = _chats.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    query = Chat.objects.select_related("user")
    if isinstance(key, str):
        if not key.startswith("@") or len(key) < 2:
            raise bad_request("chat not found")
        chat = query.filter(username__iexact=key[1:]).exclude(type=Chat.Type.PRIVATE).first()
    else:
        chat = query.filter(id=key).first()
    if chat is None:
        raise bad_request("chat not found")
    admin_ids = (
        frozenset() if chat.type == Chat.Type.PRIVATE else frozenset(chat.admins.values_list("id", flat=True))
    )
    entry = ChatEntry(chat=chat, admin_ids=admin_ids)
    with _lock:
        _chats[key] = (now + settings.SANDBOX_CACHE_SECONDS, entry)
    return entry


def chat_forget(chat_id: int) -> None:
    with _lock:
        for key in [k for k, (_, entry) in _chats.items() if entry.chat.id == chat_id]:
            _chats.pop(key, None)
