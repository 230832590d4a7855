"""Bot API objects (User, Chat, Message, …) in Telegram's exact JSON shape, built from sandbox rows."""

from __future__ import annotations

from typing import Any

from herald.telegram.sandbox.files import file_media_json
from herald.telegram.sandbox.models import Bot, Chat, File, Message, User


def bot_user_json(bot: Bot) -> dict[str, Any]:
    return {"id": bot.id, "is_bot": True, "first_name": bot.first_name, "username": bot.username}


def bot_me_json(bot: Bot) -> dict[str, Any]:
    return {
        **bot_user_json(bot),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def user_json(user: User) -> dict[str, Any]:
    body: dict[str, Any] = {"id": user.id, "is_bot": False, "first_name": user.first_name}
    if user.last_name:
        body["last_name"] = user.last_name
    if user.username:
        body["username"] = user.username
    if user.language_code:
        body["language_code"] = user.language_code
    return body


def chat_json(chat: Chat, user: User | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": chat.id, "type": chat.type}
    if chat.type == Chat.Type.PRIVATE:
        person = user or chat.user
        if person is not None:
            body["first_name"] = person.first_name
            if person.last_name:
                body["last_name"] = person.last_name
            if person.username:
                body["username"] = person.username
        return body
    body["title"] = chat.title
    if chat.username:
        body["username"] = chat.username
    return body


def chat_full_info_json(chat: Chat) -> dict[str, Any]:
    return {
        **chat_json(chat),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def message_json(
    message: Message,
    *,
    bot: Bot,
    chat: Chat,
    user: User | None = None,
    file: File | None = None,
    reply_to: Message | None = None,
) -> dict[str, Any]:
    """A ``Message`` as Telegram returns it; ``user`` is the sender of a user's message."""
    body: dict[str, Any] = {"message_id": message.message_id}
    if chat.type == Chat.Type.CHANNEL:
        body["sender_chat"] = chat_json(chat)
    elif message.from_bot:
        body["from"] = bot_user_json(bot)
    elif user is not None:
        body["from"] = user_json(user)
    body["chat"] = chat_json(chat, user if chat.type == Chat.Type.PRIVATE and not message.from_bot else None)
    body["date"] = int(message.date.timestamp())
    if message.edit_date is not None:
        body["edit_date"] = int(message.edit_date.timestamp())
    if message.media_group_id:
        body["media_group_id"] = message.media_group_id
    if reply_to is not None:
        body["reply_to_message"] = message_json(reply_to, bot=bot, chat=chat, user=reply_to.from_user)
    if message.media_type:
        media = file or message.file
        if media is not None:
            body[message.media_type] = file_media_json(media, message.media_type)
            if message.media_type == "animation":  # Telegram sends animations as documents too
                body["document"] = file_media_json(media, "document")
        if message.caption:
            body["caption"] = message.caption
            if message.entities:
                body["caption_entities"] = message.entities
    else:
        body["text"] = message.text
        if message.entities:
            body["entities"] = message.entities
    if message.reply_markup and "inline_keyboard" in message.reply_markup:
        body["reply_markup"] = message.reply_markup
    return body
