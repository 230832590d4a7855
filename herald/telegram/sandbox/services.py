"""What people do in the sandbox (make bots, users and channels; write, press, react, block) and the
updates that follow. The control API views and the test helpers call these functions.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from herald.telegram.sandbox.errors import ControlError
from herald.telegram.sandbox.files import file_store_upload
from herald.telegram.sandbox.formatting import bot_command_entities
from herald.telegram.sandbox.limits import limits_set
from herald.telegram.sandbox.models import Bot, BotChat, Call, CallbackQuery, Chat, Message, Update, User
from herald.telegram.sandbox.payloads import bot_user_json, chat_json, message_json, user_json
from herald.telegram.sandbox.registry import chat_forget, registry_clear
from herald.telegram.sandbox.sequences import next_chat_message_id, next_private_message_id, next_update_id

MEDIA_KINDS = ("photo", "video", "animation", "document")
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# Updates a bot gets only when it asks for them in allowed_updates, as in Telegram.
_OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,31}$")
# Telegram's service account, the "from" of changes nobody in the sandbox made.
_TELEGRAM_SERVICE_USER = {"id": 777000, "is_bot": False, "first_name": "Telegram"}


@dataclass(frozen=True, slots=True)
class SentByUser:
    update_id: int | None
    message_id: int


# --- looking things up ------------------------------------------------------------------------------


def sandbox_bot_get(*, bot: str | int) -> Bot:
    """A bot by username (with or without ``@``) or id; 400 naming it when there is none."""
    if isinstance(bot, int) or (isinstance(bot, str) and bot.isdigit()):
        found = Bot.objects.filter(id=int(bot)).first()
    elif isinstance(bot, str) and bot:
        found = Bot.objects.filter(username__iexact=bot.removeprefix("@")).first()
    else:
        raise ControlError('"bot" must be a bot username or id')
    if found is None:
        raise ControlError(
            f"no sandbox bot {bot!r}; create it with POST /sandbox/api/bots", code="unknown_bot"
        )
    return found


def sandbox_user_get(*, user_id: Any, field: str = "user") -> User:
    if isinstance(user_id, bool) or not isinstance(user_id, int | str) or not str(user_id).isdigit():
        raise ControlError(f'"{field}" must be a user id')
    user = User.objects.filter(id=int(user_id)).first()
    if user is None:
        raise ControlError(
            f"no sandbox user {user_id}; create one with POST /sandbox/api/users", code="unknown_user"
        )
    return user


def sandbox_chat_get(*, chat_id: Any) -> Chat:
    try:
        key = int(chat_id)
    except (TypeError, ValueError):
        raise ControlError('"chat" must be a chat id') from None
    chat = Chat.objects.select_related("user").filter(id=key).first()
    if chat is None:
        raise ControlError(f"no sandbox chat {chat_id}", code="unknown_chat", status=404)
    return chat


def update_allowed(bot: Bot, kind: str) -> bool:
    if bot.allowed_updates:
        return kind in bot.allowed_updates
    return kind not in _OPT_IN_UPDATES


def update_create(*, bot: Bot, kind: str, body: dict[str, Any]) -> Update | None:
    """Queue an update for the bot (webhook or getUpdates), unless its allowed_updates leave it out."""
    from herald.telegram.sandbox.delivery import delivery_wake

    if not update_allowed(bot, kind):
        return None
    update_id = next_update_id(bot_id=bot.id)
    update = Update.objects.create(
        bot=bot,
        update_id=update_id,
        kind=kind,
        payload={"update_id": update_id, kind: body},
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(delivery_wake)
    return update


def _new_id(model: type[Bot] | type[User] | type[Chat], low: int, high: int) -> int:
    for _ in range(20):
        candidate = random.randint(low, high)  # noqa: S311 - ids, not secrets
        if not model.objects.filter(id=candidate).exists():
            return candidate
    raise RuntimeError("could not find a free id")


def _check_username(username: str, *, required: bool) -> str:
    username = (username or "").strip().removeprefix("@")
    if not username:
        if required:
            raise ControlError('"username" is required')
        return ""
    if not _USERNAME.match(username):
        raise ControlError(
            f'"username" {username!r} must be 3-32 letters, digits or underscores, starting with a letter'
        )
    return username


# --- BotFather, people and chats ----------------------------------------------------------------------


@transaction.atomic
def sandbox_bot_create(*, username: str, first_name: str = "") -> Bot:
    """A new bot with a token, as BotFather makes one."""
    username = _check_username(username, required=True)
    if Bot.objects.filter(username__iexact=username).exists():
        raise ControlError(f"username @{username} is already taken", code="username_taken", status=409)
    bot_id = _new_id(Bot, 5_000_000_000, 8_999_999_999)
    try:
        return Bot.objects.create(
            id=bot_id,
            token=f"{bot_id}:{secrets.token_urlsafe(27)[:35]}",
            username=username,
            first_name=(first_name or username).strip()[:128],
            last_update_id=random.randint(100_000_000, 900_000_000),  # noqa: S311
        )
    except IntegrityError:
        raise ControlError(
            f"username @{username} is already taken", code="username_taken", status=409
        ) from None


@transaction.atomic
def sandbox_user_create(
    *, first_name: str, last_name: str = "", username: str = "", language_code: str = ""
) -> User:
    """A person, with the private chat every bot will see as ``chat.id == user.id``."""
    first_name = (first_name or "").strip()
    if not first_name:
        raise ControlError('"first_name" is required')
    username = _check_username(username, required=False)
    if username and User.objects.filter(username__iexact=username).exists():
        raise ControlError(f"username @{username} is already taken", code="username_taken", status=409)
    user = User.objects.create(
        id=_new_id(User, 100_000_000, 4_999_999_999),
        first_name=first_name[:128],
        last_name=(last_name or "").strip()[:128],
        username=username,
        language_code=(language_code or "").strip()[:16],
    )
    Chat.objects.create(id=user.id, type=Chat.Type.PRIVATE, user=user)
    return user


@transaction.atomic
def sandbox_chat_create(
    *, chat_type: str, title: str, username: str = "", admins: list[str] | None = None
) -> Chat:
    """A channel or supergroup (a ``-100…`` id) with bots as administrators; each bot gets my_chat_member."""
    title = (title or "").strip()
    if not title:
        raise ControlError('"title" is required')
    username = _check_username(username, required=False)
    if username and Chat.objects.filter(username__iexact=username).exists():
        raise ControlError(f"username @{username} is already taken", code="username_taken", status=409)
    if admins is not None and (
        not isinstance(admins, list) or not all(isinstance(a, str | int) for a in admins)
    ):
        raise ControlError('"admins" must be a list of bot usernames')
    bots = [sandbox_bot_get(bot=ref) for ref in admins or []]
    if chat_type == Chat.Type.GROUP:  # basic groups have short negative ids
        chat_id = -_new_id(Chat, 4_000_000_000, 4_999_999_999)
    else:
        chat_id = -(1_000_000_000_000 + _new_id(Chat, 1_000_000_000, 9_999_999_999))
    chat = Chat.objects.create(
        id=chat_id,
        type=chat_type,
        title=title[:255],
        username=username,
    )
    chat.admins.set(bots)
    for bot in bots:
        update_create(
            bot=bot,
            kind="my_chat_member",
            body={
                "chat": chat_json(chat),
                "from": _TELEGRAM_SERVICE_USER,
                "date": int(timezone.now().timestamp()),
                "old_chat_member": {"status": "left", "user": bot_user_json(bot)},
                "new_chat_member": chat_member_administrator_json(bot, chat),
            },
        )
    return chat


def chat_member_administrator_json(bot: Bot, chat: Chat) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "administrator",
        "user": bot_user_json(bot),
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": True,
        "can_edit_stories": True,
        "can_delete_stories": True,
    }
    if chat.type == Chat.Type.CHANNEL:
        body.update(can_post_messages=True, can_edit_messages=True)
    else:
        body.update(can_pin_messages=True, can_manage_topics=False)
    return body


# --- what users do --------------------------------------------------------------------------------


@transaction.atomic
def sandbox_user_send(
    *,
    bot: Bot,
    from_user: User,
    chat: Chat | None = None,
    text: str = "",
    caption: str = "",
    upload: UploadedFile | None = None,
    media_type: str = "",
) -> SentByUser:
    """The user writes to the bot (text or a file with a caption); the bot gets a ``message`` update."""
    if chat is None or chat.id == from_user.id:
        chat = Chat.objects.get(id=from_user.id)
    elif chat.type == Chat.Type.PRIVATE:
        raise ControlError("a user can write only in their own private chat, a group or a channel's comments")
    elif chat.type == Chat.Type.CHANNEL:
        raise ControlError("users cannot post in a channel; its administrators (bots) post there")
    elif chat.migrated_to_chat_id is not None:
        raise ControlError(f"group {chat.id} was upgraded to the supergroup {chat.migrated_to_chat_id}")
    elif not chat.admins.filter(id=bot.id).exists():
        raise ControlError(f"@{bot.username} is not a member of the group {chat.id}")
    if upload is not None:
        if media_type not in MEDIA_KINDS:
            raise ControlError(f"a file must be sent as one of {', '.join(MEDIA_KINDS)}")
        if len(caption) > CAPTION_LIMIT:
            raise ControlError(f'"caption" is longer than {CAPTION_LIMIT} characters')
        text = ""
    else:
        if not text or not text.strip():
            raise ControlError('"text" is required (or a photo, video, animation or document file)')
        if len(text) > TEXT_LIMIT:
            raise ControlError(f'"text" is longer than {TEXT_LIMIT} characters')
        caption = ""
    if chat.type == Chat.Type.PRIVATE:
        message_id, status = next_private_message_id(bot_id=bot.id, chat_id=chat.id)
        if status == BotChat.Status.KICKED:
            raise ControlError(
                f"user {from_user.id} has blocked @{bot.username}; unblock with POST /sandbox/api/members",
                code="bot_blocked",
                status=409,
            )
    else:
        message_id = next_chat_message_id(chat_id=chat.id)
    file = file_store_upload(upload=upload, kind=media_type) if upload is not None else None
    message = Message.objects.create(
        bot=bot,
        chat=chat,
        message_id=message_id,
        from_bot=False,
        from_user=from_user,
        text=text,
        caption=caption,
        entities=bot_command_entities(text or caption),
        media_type=media_type if file is not None else "",
        file=file,
        date=timezone.now(),
    )
    update = update_create(
        bot=bot, kind="message", body=message_json(message, bot=bot, chat=chat, user=from_user, file=file)
    )
    return SentByUser(update_id=update.update_id if update else None, message_id=message_id)


def _has_callback_button(reply_markup: Any, data: str) -> bool:
    rows = reply_markup.get("inline_keyboard", []) if isinstance(reply_markup, dict) else []
    return any(
        isinstance(button, dict) and button.get("callback_data") == data
        for row in rows
        if isinstance(row, list)
        for button in row
    )


@transaction.atomic
def sandbox_user_press(*, bot: Bot, from_user: User, message_id: int, data: str) -> int:
    """The user presses an inline button under a bot message in their private chat: a callback_query."""
    message = (
        Message.objects.select_related("chat", "chat__user", "file")
        .filter(bot=bot, chat_id=from_user.id, message_id=message_id, from_bot=True, deleted=False)
        .first()
    )
    if message is None:
        raise ControlError(
            f"@{bot.username} has no message {message_id} in the private chat of user {from_user.id}",
            code="unknown_message",
        )
    if not _has_callback_button(message.reply_markup, data):
        raise ControlError(
            f"message {message_id} has no inline button with callback_data {data!r}", code="unknown_button"
        )
    query = CallbackQuery.objects.create(
        id=str(random.randint(10**18, 9 * 10**18)),  # noqa: S311
        bot=bot,
        user=from_user,
        message=message,
        data=data,
    )
    chat_instance = int(hashlib.sha256(f"{bot.id}:{message.chat_id}".encode()).hexdigest()[:15], 16)
    update = update_create(
        bot=bot,
        kind="callback_query",
        body={
            "id": query.id,
            "from": user_json(from_user),
            "message": message_json(message, bot=bot, chat=message.chat),
            "chat_instance": str(chat_instance),
            "data": data,
        },
    )
    if update is None:
        raise ControlError(f"@{bot.username} does not take callback_query updates (allowed_updates)")
    return update.update_id


@transaction.atomic
def sandbox_react(*, bot: Bot, chat: Chat, message_id: int, reactions: dict[str, int]) -> int:
    """Anonymous reaction counts change on a message: a ``message_reaction_count`` update."""
    if not isinstance(reactions, dict) or not all(
        isinstance(emoji, str) and emoji and isinstance(n, int) and not isinstance(n, bool) and n >= 0
        for emoji, n in reactions.items()
    ):
        raise ControlError('"reactions" must map emoji to counts, like {"👍": 3}')
    scope = Q(chat=chat, message_id=message_id, deleted=False)
    if chat.type == Chat.Type.PRIVATE:
        scope &= Q(bot=bot)
    if not Message.objects.filter(scope).exists():
        raise ControlError(f"chat {chat.id} has no message {message_id}", code="unknown_message")
    update = update_create(
        bot=bot,
        kind="message_reaction_count",
        body={
            "chat": chat_json(chat),
            "message_id": message_id,
            "date": int(timezone.now().timestamp()),
            "reactions": [
                {"type": {"type": "emoji", "emoji": emoji}, "total_count": count}
                for emoji, count in reactions.items()
                if count > 0
            ],
        },
    )
    if update is None:
        raise ControlError(
            f"@{bot.username} did not ask for message_reaction_count updates: Telegram sends them only "
            "when allowed_updates (setWebhook or getUpdates) lists them",
            code="update_not_allowed",
            status=409,
        )
    return update.update_id


@transaction.atomic
def sandbox_member_set(*, bot: Bot, user: User, status: str) -> int | None:
    """The user blocks (``kicked``) or unblocks (``member``) the bot: a ``my_chat_member`` update."""
    if status not in BotChat.Status.values:
        raise ControlError('"status" must be "kicked" or "member"')
    bot_chat, _ = BotChat.objects.select_for_update().get_or_create(bot=bot, chat_id=user.id)
    old = bot_chat.status
    if old == status:
        return None
    bot_chat.status = status
    bot_chat.save(update_fields=["status"])
    new_member: dict[str, Any] = {"status": status, "user": bot_user_json(bot)}
    if status == BotChat.Status.KICKED:
        new_member["until_date"] = 0
    update = update_create(
        bot=bot,
        kind="my_chat_member",
        body={
            "chat": chat_json(Chat.objects.select_related("user").get(id=user.id)),
            "from": user_json(user),
            "date": int(timezone.now().timestamp()),
            "old_chat_member": {"status": old, "user": bot_user_json(bot)},
            "new_chat_member": new_member,
        },
    )
    return update.update_id if update else None


@transaction.atomic
def sandbox_redeliver(*, bot: Bot, update_id: int) -> Update:
    """Send an earlier update to the webhook again, as Telegram does when it did not see a 2xx."""
    from herald.telegram.sandbox.delivery import delivery_wake

    if not bot.webhook_url:
        raise ControlError(
            f"@{bot.username} has no webhook; its updates wait for getUpdates", code="no_webhook", status=409
        )
    update = Update.objects.filter(bot=bot, update_id=update_id).first()
    if update is None:
        raise ControlError(f"@{bot.username} has no update {update_id}", code="unknown_update")
    update.state = Update.State.PENDING
    update.next_attempt_at = timezone.now()
    update.save(update_fields=["state", "next_attempt_at"])
    transaction.on_commit(delivery_wake)
    return update


@transaction.atomic
def sandbox_group_migrate(*, chat: Chat) -> Chat:
    """Upgrade a basic group to a supergroup: sends to the old id then answer ``migrate_to_chat_id``."""
    if chat.type != Chat.Type.GROUP:
        raise ControlError(f"chat {chat.id} is not a basic group; only basic groups are upgraded")
    if chat.migrated_to_chat_id is not None:
        raise ControlError(f"group {chat.id} was already upgraded to {chat.migrated_to_chat_id}", status=409)
    supergroup = Chat.objects.create(
        id=-(1_000_000_000_000 + _new_id(Chat, 1_000_000_000, 9_999_999_999)),
        type=Chat.Type.SUPERGROUP,
        title=chat.title,
        username=chat.username,
    )
    supergroup.admins.set(chat.admins.all())
    Chat.objects.filter(id=chat.id).update(migrated_to_chat_id=supergroup.id, username="")
    chat_forget(chat.id)
    return supergroup


def sandbox_forget_process_state() -> None:
    """Drop this process's cached bots and chats and its limit windows (tests call it between tests)."""
    registry_clear()
    limits_set(enabled=None)


# --- what the browser chat and tests read ---------------------------------------------------------------


def sandbox_chat_messages(*, chat: Chat, bot: Bot | None, limit: int | None = None) -> list[dict[str, Any]]:
    """A chat's messages in order; a private chat is seen from one bot's side."""
    query = Message.objects.filter(chat=chat).select_related("file", "bot")
    if chat.type == Chat.Type.PRIVATE:
        if bot is None:
            raise ControlError('"bot" is required for a private chat (?bot=<username>)')
        query = query.filter(bot=bot)
    query = query.order_by("message_id")
    if limit is not None:
        query = query.reverse()[:limit]
    rows = list(query)
    if limit is not None:
        rows.reverse()
    return [
        {
            "message_id": m.message_id,
            "date": int(m.date.timestamp()),
            "from_bot": m.from_bot,
            "bot": m.bot.username if m.from_bot else None,
            "from_user": m.from_user_id,
            "text": m.text,
            "caption": m.caption,
            "entities": m.entities,
            "media": (
                {
                    "type": m.media_type,
                    "file_id": m.file.file_id,
                    "file_name": m.file.file_name,
                    "url": f"/sandbox/api/files/{m.file.file_unique_id}",
                }
                if m.media_type and m.file is not None
                else None
            ),
            "media_group_id": m.media_group_id or None,
            "reply_markup": m.reply_markup,
            "edited": m.edited,
            "deleted": m.deleted,
        }
        for m in rows
    ]


def sandbox_callback_answer(*, callback_query_id: str) -> dict[str, Any]:
    """How the bot answered a button press (answerCallbackQuery), for the browser chat to show."""
    query = CallbackQuery.objects.filter(id=callback_query_id).first()
    if query is None:
        raise ControlError(
            f"no callback query {callback_query_id!r}", code="unknown_callback_query", status=404
        )
    return {
        "id": query.id,
        "answered": query.answered,
        "text": query.answer_text,
        "show_alert": query.show_alert,
    }


def sandbox_calls(*, bot: Bot) -> list[dict[str, Any]]:
    return [
        {
            "method": call.method,
            "params": call.params,
            "status": call.status,
            "description": call.description,
            "time": call.created_at.isoformat(),
        }
        for call in Call.objects.filter(bot=bot).order_by("id")
    ]
