"""Helpers any test can use to set up the sandbox's Telegram world directly (no HTTP needed).

    bot = sandbox_bot("shop_bot")            # SandboxBot(id, token, username)
    ann = sandbox_user("Ann")                # user id == her private chat id
    sandbox_send(bot, ann, "/start")         # Ann writes; the bot gets a message update
    deliver_pending_updates()                # POST due updates to webhooks, from the test thread
    sandbox_messages(ann, bot)               # what the chat shows, as GET /sandbox/api/chats/<id>/messages

With pytest-django's ``live_server`` (which makes the test transactional), rows made here are visible to
the server at once. Point clients at ``sandbox_api_base(live_server.url)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from herald.telegram.sandbox import services
from herald.telegram.sandbox.delivery import deliver_pending_updates
from herald.telegram.sandbox.models import Chat

__all__ = [
    "SandboxBot",
    "deliver_pending_updates",
    "sandbox_api_base",
    "sandbox_bot",
    "sandbox_channel",
    "sandbox_file_base",
    "sandbox_group",
    "sandbox_messages",
    "sandbox_press",
    "sandbox_send",
    "sandbox_user",
]


@dataclass(frozen=True)
class SandboxBot:
    id: int
    token: str
    username: str


def sandbox_api_base(server_url: str) -> str:
    """The ``base_url`` for PTB's ``Bot(token, base_url=...)``: ``<server>/sandbox/bot``."""
    return f"{server_url.rstrip('/')}/sandbox/bot"


def sandbox_file_base(server_url: str) -> str:
    return f"{server_url.rstrip('/')}/sandbox/file/bot"


def sandbox_bot(username: str = "shop_bot", first_name: str = "") -> SandboxBot:
    bot = services.sandbox_bot_create(username=username, first_name=first_name)
    return SandboxBot(id=bot.id, token=bot.token, username=bot.username)


def sandbox_user(first_name: str = "Ann", username: str = "", language_code: str = "en") -> int:
    return services.sandbox_user_create(
        first_name=first_name, username=username, language_code=language_code
    ).id


def sandbox_channel(title: str = "Deals", admins: list[str] | None = None, username: str = "") -> int:
    return services.sandbox_chat_create(
        chat_type=Chat.Type.CHANNEL, title=title, username=username, admins=admins or []
    ).id


def sandbox_group(title: str = "Club", admins: list[str] | None = None, username: str = "") -> int:
    return services.sandbox_chat_create(
        chat_type=Chat.Type.SUPERGROUP, title=title, username=username, admins=admins or []
    ).id


def sandbox_send(bot: SandboxBot | str, user_id: int, text: str) -> services.SentByUser:
    """The user writes ``text`` to the bot in their private chat."""
    return services.sandbox_user_send(
        bot=services.sandbox_bot_get(bot=bot.username if isinstance(bot, SandboxBot) else bot),
        from_user=services.sandbox_user_get(user_id=user_id),
        text=text,
    )


def sandbox_press(bot: SandboxBot | str, user_id: int, message_id: int, data: str) -> int:
    """The user presses the inline button with ``data`` under a bot message; the update id."""
    return services.sandbox_user_press(
        bot=services.sandbox_bot_get(bot=bot.username if isinstance(bot, SandboxBot) else bot),
        from_user=services.sandbox_user_get(user_id=user_id),
        message_id=message_id,
        data=data,
    )


def sandbox_messages(chat_id: int, bot: SandboxBot | str | None = None) -> list[dict[str, Any]]:
    ref = bot.username if isinstance(bot, SandboxBot) else bot
    return services.sandbox_chat_messages(
        chat=services.sandbox_chat_get(chat_id=chat_id),
        bot=services.sandbox_bot_get(bot=ref) if ref else None,
    )
