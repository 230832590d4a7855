"""The Bot API methods the sandbox implements, and the one entry point that checks, runs and logs a call."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from herald.telegram.sandbox.errors import NOT_FOUND, UNAUTHORIZED, BotApiError, bad_request, forbidden
from herald.telegram.sandbox.files import file_from_reference, file_store_upload
from herald.telegram.sandbox.formatting import parse_html, parse_markdown
from herald.telegram.sandbox.limits import limits_check_send
from herald.telegram.sandbox.models import (
    Bot,
    BotChat,
    Call,
    CallbackQuery,
    Chat,
    File,
    Message,
    Update,
    User,
)
from herald.telegram.sandbox.payloads import (
    bot_me_json,
    bot_user_json,
    chat_full_info_json,
    message_json,
    user_json,
)
from herald.telegram.sandbox.registry import ChatEntry, bot_by_token, bot_forget, chat_lookup
from herald.telegram.sandbox.sequences import next_chat_message_id, next_private_message_id
from herald.telegram.sandbox.services import CAPTION_LIMIT, TEXT_LIMIT, chat_member_administrator_json
from herald.telegram.sandbox.spec import Method, bot_api_spec, clean_strings, validate_params

logger = logging.getLogger(__name__)

Params = dict[str, Any]
Files = dict[str, UploadedFile]


@dataclass(frozen=True, slots=True)
class Answer:
    """A result with the ``description`` Telegram adds to some successful answers."""

    result: Any
    description: str


# --- shared pieces --------------------------------------------------------------------------------


def _formatted(
    text: str, parse_mode: str | None, entities: list | None, *, limit: int, what: str
) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities after parse_mode, with Telegram's length rule for ``what``."""
    found: list[dict[str, Any]] = []
    if parse_mode:
        mode = parse_mode.lower()
        if mode == "html":
            text, found = parse_html(text)
        elif mode in ("markdown", "markdownv2"):
            text, found = parse_markdown(text, v2=mode == "markdownv2")
        else:
            raise bad_request("unsupported parse_mode")
    elif entities:
        for entity in entities:
            if not (
                isinstance(entity.get("type"), str)
                and isinstance(entity.get("offset"), int)
                and isinstance(entity.get("length"), int)
            ):
                raise bad_request("can't parse entities: entity must have type, offset and length")
        found = entities
    if len(text) > limit:
        raise bad_request(f"{what} is too long")
    return text, found


def _button_error(detail: str) -> BotApiError:
    return bad_request(f"can't parse inline keyboard button: {detail}")


_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _reply_markup(value: dict | None, *, inline_only: bool = False) -> dict | None:
    if value is None:
        return None
    if "inline_keyboard" in value:
        rows = value["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('can\'t parse inline keyboard markup: field "inline_keyboard" must be an Array')
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _button_error('Field "text" must be of type String')
                if not button["text"]:
                    raise bad_request("BUTTON_TEXT_INVALID")
                actions = [key for key in _BUTTON_ACTIONS if key in button]
                if not actions:
                    raise _button_error("Text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and (
                    not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64
                ):
                    raise bad_request("BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and (
                    not isinstance(url, str) or ("://" not in url and not url.startswith("tg:"))
                ):
                    raise bad_request("BUTTON_URL_INVALID")
        return value
    if inline_only:
        raise bad_request("can't parse inline keyboard markup JSON object")
    if any(key in value for key in ("keyboard", "remove_keyboard", "force_reply")):
        return value
    raise bad_request("can't parse reply keyboard markup JSON object")


def _check_can_post(bot: Bot, entry: ChatEntry) -> None:
    chat = entry.chat
    if chat.migrated_to_chat_id is not None:
        raise BotApiError(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            parameters={"migrate_to_chat_id": chat.migrated_to_chat_id},
        )
    if chat.type == Chat.Type.PRIVATE or bot.id in entry.admin_ids:
        return
    kind = {Chat.Type.CHANNEL: "channel", Chat.Type.GROUP: "group"}.get(Chat.Type(chat.type), "supergroup")
    raise forbidden(f"bot is not a member of the {kind} chat")


def _next_message_id(bot: Bot, chat: Chat) -> int:
    if chat.type == Chat.Type.PRIVATE:
        message_id, status = next_private_message_id(bot_id=bot.id, chat_id=chat.id)
        if status == BotChat.Status.KICKED:
            raise forbidden("bot was blocked by the user")
        return message_id
    return next_chat_message_id(chat_id=chat.id)


def _reply_to(bot: Bot, chat: Chat, params: Params) -> Message | None:
    reply = params.get("reply_parameters") or {}
    message_id = reply.get("message_id") if isinstance(reply, dict) else None
    if message_id is None:
        return None
    found = _find_message(bot, chat, message_id)
    if found is None and not reply.get("allow_sending_without_reply"):
        raise bad_request("message to be replied not found")
    return found


def _find_message(bot: Bot, chat: Chat, message_id: Any) -> Message | None:
    if not isinstance(message_id, int):
        return None
    query = Message.objects.select_related("file", "from_user").filter(
        chat_id=chat.id, message_id=message_id, deleted=False
    )
    if chat.type == Chat.Type.PRIVATE:
        query = query.filter(bot=bot)
    return query.first()


def _send(
    bot: Bot,
    params: Params,
    *,
    text: str = "",
    text_entities: list | None = None,
    media_type: str = "",
    media: UploadedFile | str | None = None,
) -> dict[str, Any]:
    """Everything sendMessage and the send<Media> methods share: checks, limits, the row, the answer."""
    entry = chat_lookup(params["chat_id"])
    chat = entry.chat
    _check_can_post(bot, entry)
    caption, entities = "", text_entities or []
    if media_type:
        caption, entities = _formatted(
            params.get("caption") or "",
            params.get("parse_mode"),
            params.get("caption_entities"),
            limit=CAPTION_LIMIT,
            what="message caption",
        )
    reply_markup = _reply_markup(params.get("reply_markup"))
    message_id = _next_message_id(bot, chat)
    reply_to = _reply_to(bot, chat, params)
    file: File | None = None
    if media is not None:
        file = (
            file_store_upload(upload=media, kind=media_type)
            if isinstance(media, UploadedFile)
            else file_from_reference(reference=media, kind=media_type)
        )
    message = Message(
        bot=bot,
        chat=chat,
        message_id=message_id,
        from_bot=True,
        text=text,
        caption=caption,
        entities=entities,
        media_type=media_type,
        file=file,
        reply_markup=reply_markup,
        reply_to_message_id=reply_to.message_id if reply_to else None,
        date=timezone.now(),
    )
    message.save(force_insert=True)
    return message_json(message, bot=bot, chat=chat, file=file, reply_to=reply_to)


# --- methods ------------------------------------------------------------------------------------


def get_me(bot: Bot, params: Params, files: Files) -> Any:
    return bot_me_json(bot)


def send_message(bot: Bot, params: Params, files: Files) -> Any:
    text, entities = _formatted(
        params["text"], params.get("parse_mode"), params.get("entities"), limit=TEXT_LIMIT, what="message"
    )
    if not text.strip():
        raise bad_request("message text is empty")
    return _send(bot, params, text=text, text_entities=entities)


def _send_media(kind: str) -> Callable[[Bot, Params, Files], Any]:
    def send(bot: Bot, params: Params, files: Files) -> Any:
        return _send(bot, params, media_type=kind, media=params[kind])

    send.__name__ = f"send_{kind}"
    return send


_GROUPABLE = {"photo": "visual", "video": "visual", "document": "document", "audio": "audio"}


def send_media_group(bot: Bot, params: Params, files: Files) -> Any:
    items = params["media"]
    if not 2 <= len(items) <= 10:
        raise bad_request("wrong number of media in the group: send 2-10 items")
    families = set()
    for item in items:
        kind = item.get("type")
        if kind not in _GROUPABLE:
            raise bad_request(f"unsupported media type {kind!r} in a media group")
        families.add(_GROUPABLE[kind])
        if not item.get("media"):
            raise bad_request("there is no media in the request")
    if len(families) > 1:
        raise bad_request("documents and audio can be grouped only with media of the same type")
    entry = chat_lookup(params["chat_id"])
    _check_can_post(bot, entry)
    chat = entry.chat
    group_id = str(secrets.randbelow(9 * 10**17) + 10**17)
    now = timezone.now()
    answers = []
    for item in items:
        kind = item["type"]
        caption, entities = _formatted(
            item.get("caption") or "",
            item.get("parse_mode"),
            item.get("caption_entities"),
            limit=CAPTION_LIMIT,
            what="message caption",
        )
        reference = item["media"]
        if isinstance(reference, str) and reference.startswith("attach://"):
            upload = files.get(reference.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"file {reference!r} is not attached to the request")
            file = file_store_upload(upload=upload, kind=kind)
        elif isinstance(reference, str):
            file = file_from_reference(reference=reference, kind=kind)
        else:
            raise bad_request("can't parse InputMedia: media must be a String")
        message = Message(
            bot=bot,
            chat=chat,
            message_id=_next_message_id(bot, chat),
            from_bot=True,
            caption=caption,
            entities=entities,
            media_type=kind,
            file=file,
            media_group_id=group_id,
            date=now,
        )
        message.save(force_insert=True)
        answers.append(message_json(message, bot=bot, chat=chat, file=file))
    return answers


def _message_to_edit(bot: Bot, params: Params) -> tuple[Message, Chat]:
    if params.get("inline_message_id"):
        raise bad_request("inline messages are not supported by the sandbox")
    if "chat_id" not in params:
        raise bad_request("chat_id is empty")
    if "message_id" not in params:
        raise bad_request("message_id is empty")
    chat = chat_lookup(params["chat_id"]).chat
    message = _find_message(bot, chat, params["message_id"])
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot or message.bot_id != bot.id:
        raise bad_request("message can't be edited")
    return message, chat


_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)


def _save_edit(message: Message, chat: Chat, bot: Bot, fields: list[str]) -> dict[str, Any]:
    message.edited = True
    message.edit_date = timezone.now()
    message.save(update_fields=[*fields, "edited", "edit_date"])
    return message_json(message, bot=bot, chat=chat)


def edit_message_text(bot: Bot, params: Params, files: Files) -> Any:
    message, chat = _message_to_edit(bot, params)
    if message.media_type:
        raise bad_request("there is no text in the message to edit")
    text, entities = _formatted(
        params.get("text") or "",
        params.get("parse_mode"),
        params.get("entities"),
        limit=TEXT_LIMIT,
        what="message",
    )
    if not text.strip():
        raise bad_request("message text is empty")
    markup = _reply_markup(params.get("reply_markup"), inline_only=True)
    if text == message.text and entities == message.entities and markup == message.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    message.text, message.entities, message.reply_markup = text, entities, markup
    return _save_edit(message, chat, bot, ["text", "entities", "reply_markup"])


def edit_message_caption(bot: Bot, params: Params, files: Files) -> Any:
    message, chat = _message_to_edit(bot, params)
    if not message.media_type:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = _formatted(
        params.get("caption") or "",
        params.get("parse_mode"),
        params.get("caption_entities"),
        limit=CAPTION_LIMIT,
        what="message caption",
    )
    markup = _reply_markup(params.get("reply_markup"), inline_only=True)
    if caption == message.caption and entities == message.entities and markup == message.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    message.caption, message.entities, message.reply_markup = caption, entities, markup
    return _save_edit(message, chat, bot, ["caption", "entities", "reply_markup"])


def edit_message_reply_markup(bot: Bot, params: Params, files: Files) -> Any:
    message, chat = _message_to_edit(bot, params)
    markup = _reply_markup(params.get("reply_markup"), inline_only=True)
    if markup == message.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    message.reply_markup = markup
    return _save_edit(message, chat, bot, ["reply_markup"])


def delete_message(bot: Bot, params: Params, files: Files) -> Any:
    chat = chat_lookup(params["chat_id"]).chat
    message = _find_message(bot, chat, params["message_id"])
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    message.save(update_fields=["deleted"])
    return True


def answer_callback_query(bot: Bot, params: Params, files: Files) -> Any:
    text = params.get("text") or ""
    if len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    updated = CallbackQuery.objects.filter(id=params["callback_query_id"], bot=bot).update(
        answered=True, answer_text=text, show_alert=bool(params.get("show_alert"))
    )
    if not updated:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    return True


def get_chat(bot: Bot, params: Params, files: Files) -> Any:
    return chat_full_info_json(chat_lookup(params["chat_id"]).chat)


def get_chat_member(bot: Bot, params: Params, files: Files) -> Any:
    entry = chat_lookup(params["chat_id"])
    chat, user_id = entry.chat, params["user_id"]
    if user_id == bot.id:
        if chat.type == Chat.Type.PRIVATE:
            return {"status": "member", "user": bot_user_json(bot)}
        if bot.id in entry.admin_ids:
            return chat_member_administrator_json(bot, chat)
        return {"status": "left", "user": bot_user_json(bot)}
    if user_id in entry.admin_ids:
        return chat_member_administrator_json(Bot.objects.get(id=user_id), chat)
    user = User.objects.filter(id=user_id).first()
    if user is None:
        raise bad_request("user not found")
    if chat.type == Chat.Type.PRIVATE and chat.id != user.id:
        raise bad_request("user not found")
    return {"status": "member", "user": user_json(user)}


def get_file(bot: Bot, params: Params, files: Files) -> Any:
    file = File.objects.filter(file_id=params["file_id"]).first()
    if file is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": file.file_size,
        "file_path": file.file_path,
    }


def set_my_commands(bot: Bot, params: Params, files: Files) -> Any:
    commands = params["commands"]
    if len(commands) > 100:
        raise bad_request("too many commands: at most 100")
    for command in commands:
        name, description = command.get("command"), command.get("description")
        if not isinstance(name, str) or not 1 <= len(name) <= 32 or not name.replace("_", "").isalnum():
            raise bad_request("BOT_COMMAND_INVALID")
        if name.lower() != name:
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    Bot.objects.filter(id=bot.id).update(
        commands=[{"command": c["command"], "description": c["description"]} for c in commands]
    )
    return True


def get_my_commands(bot: Bot, params: Params, files: Files) -> Any:
    return Bot.objects.values_list("commands", flat=True).get(id=bot.id)


def delete_my_commands(bot: Bot, params: Params, files: Files) -> Any:
    Bot.objects.filter(id=bot.id).update(commands=[])
    return True


# --- webhooks and getUpdates --------------------------------------------------------------------------


def _pending(bot_id: int) -> Any:
    return Update.objects.filter(bot_id=bot_id, state=Update.State.PENDING)


def set_webhook(bot: Bot, params: Params, files: Files) -> Any:
    url = params.get("url", "")
    if url == "":
        return delete_webhook(bot, params, files)
    if not url.startswith(("http://", "https://")) or len(url) > 2048:
        raise bad_request("bad webhook: an HTTP or HTTPS URL must be provided for webhook")
    secret = params.get("secret_token", "")
    if secret and (len(secret) > 256 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in secret)):
        raise bad_request("secret token contains unallowed characters")
    fresh = Bot.objects.select_for_update().get(id=bot.id)
    fresh.webhook_url = url
    fresh.webhook_secret_token = secret
    fresh.webhook_max_connections = max(1, min(100, params.get("max_connections", 40)))
    if "allowed_updates" in params:
        fresh.allowed_updates = params["allowed_updates"]
    fresh.last_error_date = None
    fresh.last_error_message = ""
    fresh.save()
    if params.get("drop_pending_updates"):
        _pending(bot.id).update(state=Update.State.DROPPED)
    else:
        _pending(bot.id).update(next_attempt_at=timezone.now())
    bot_forget(bot.token)
    from herald.telegram.sandbox.delivery import delivery_wake

    transaction.on_commit(delivery_wake)
    return Answer(True, "Webhook was set")


def delete_webhook(bot: Bot, params: Params, files: Files) -> Any:
    fresh = Bot.objects.select_for_update().get(id=bot.id)
    had_webhook = bool(fresh.webhook_url)
    fresh.webhook_url = ""
    fresh.webhook_secret_token = ""
    fresh.save(update_fields=["webhook_url", "webhook_secret_token"])
    if params.get("drop_pending_updates"):
        _pending(bot.id).update(state=Update.State.DROPPED)
    bot_forget(bot.token)
    return Answer(True, "Webhook was deleted" if had_webhook else "Webhook is already deleted")


def get_webhook_info(bot: Bot, params: Params, files: Files) -> Any:
    fresh = Bot.objects.get(id=bot.id)
    info: dict[str, Any] = {
        "url": fresh.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": _pending(bot.id).count(),
    }
    if fresh.last_error_date is not None:
        info["last_error_date"] = int(fresh.last_error_date.timestamp())
        info["last_error_message"] = fresh.last_error_message
    if fresh.webhook_url:
        info["max_connections"] = fresh.webhook_max_connections
        info["ip_address"] = "127.0.0.1"
    if fresh.allowed_updates:
        info["allowed_updates"] = fresh.allowed_updates
    return info


_new_updates = threading.Condition()


def updates_arrived() -> None:
    """Wake getUpdates calls waiting in this process (called after an update is committed)."""
    with _new_updates:
        _new_updates.notify_all()


def get_updates(bot: Bot, params: Params, files: Files) -> Any:
    fresh = Bot.objects.get(id=bot.id)
    if fresh.webhook_url:
        raise BotApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    if "allowed_updates" in params:
        Bot.objects.filter(id=bot.id).update(allowed_updates=params["allowed_updates"])
    offset = params.get("offset")
    if offset is not None and offset != 0:
        pending = _pending(bot.id)
        if offset < 0:
            keep = list(pending.order_by("-update_id").values_list("update_id", flat=True)[:-offset])
            pending.exclude(update_id__in=keep).update(state=Update.State.CONFIRMED)
        else:
            pending.filter(update_id__lt=offset).update(state=Update.State.CONFIRMED)
    limit = max(1, min(100, params.get("limit", 100)))
    wait = min(float(max(0, params.get("timeout", 0))), settings.SANDBOX_LONG_POLL_MAX_SECONDS)
    deadline = time.monotonic() + wait
    while True:
        found = list(_pending(bot.id).order_by("update_id").values_list("payload", flat=True)[:limit])
        remaining = deadline - time.monotonic()
        if found or remaining <= 0:
            return found
        # another process may add updates too, so look at the database again at least every 0.25 s
        with _new_updates:
            _new_updates.wait(timeout=min(remaining, 0.25))


def _answer_true(bot: Bot, params: Params, files: Files) -> Any:
    return True


HANDLERS: dict[str, Callable[[Bot, Params, Files], Any]] = {
    "getMe": get_me,
    "logOut": _answer_true,
    "close": _answer_true,
    "sendMessage": send_message,
    "sendPhoto": _send_media("photo"),
    "sendVideo": _send_media("video"),
    "sendAnimation": _send_media("animation"),
    "sendDocument": _send_media("document"),
    "sendAudio": _send_media("audio"),
    "sendMediaGroup": send_media_group,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getFile": get_file,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "getUpdates": get_updates,
}
# getUpdates may wait for updates, and must not hold a write transaction while it does. sendMessage
# writes its id, its message and the call log as three statements, so that SQLite's one write lock is
# held for each statement alone and not while Python builds the next (a fan-out is mostly sendMessage).
_OUTSIDE_TRANSACTION = {"getUpdates", "sendMessage"}
_COUNTED_SENDS = frozenset(
    {"sendMessage", "sendPhoto", "sendVideo", "sendAnimation", "sendDocument", "sendAudio", "sendMediaGroup"}
)


def _count_send(bot: Bot, params: Params) -> None:
    """Count a send against the limits as it arrives, like Telegram, not once it has its turn to write."""
    entry = chat_lookup(params["chat_id"])
    _check_can_post(bot, entry)
    chat = entry.chat
    limits_check_send(bot_id=bot.id, chat_id=chat.id, chat_is_private=chat.type == Chat.Type.PRIVATE)


def _handler_for(method: Method) -> Callable[[Bot, Params, Files], Any]:
    handler = HANDLERS.get(method.name)
    if handler is not None:
        return handler
    if method.returns == ("Boolean",):
        return _answer_true
    raise bad_request(f"method {method.name} is not supported by the sandbox")


# --- the entry point ------------------------------------------------------------------------------


def _loggable(params: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {"file_name": value.name, "size": value.size} if isinstance(value, UploadedFile) else value
        for key, value in params.items()
    }


def _call_log(bot: Bot, method: str, params: dict[str, Any], status: int, description: str = "") -> None:
    Call.objects.create(
        bot_id=bot.id, method=method, params=_loggable(params), status=status, description=description[:512]
    )


def bot_api_call(
    *, token: str, method_name: str, raw: dict[str, Any], files: Files
) -> tuple[int, dict[str, Any]]:
    """Run one Bot API request; the HTTP status and Telegram's JSON answer."""
    bot = bot_by_token(token)
    if bot is None:
        return 401, UNAUTHORIZED.as_dict()
    method = bot_api_spec().method(method_name)
    if method is None:
        _call_log(bot, method_name.replace("\x00", "")[:64], {}, 404, NOT_FOUND.description)
        return 404, NOT_FOUND.as_dict()
    try:
        raw = clean_strings(raw)
    except ValueError as error:
        _call_log(bot, method.name, {}, 400, f"Bad Request: {error}")
        return 400, bad_request(str(error)).as_dict()
    params: dict[str, Any] = {**raw, **files}
    try:
        params = validate_params(method, raw, files)
        handler = _handler_for(method)
        if method.name in _COUNTED_SENDS:
            _count_send(bot, params)
        if method.name in _OUTSIDE_TRANSACTION:
            result = handler(bot, params, files)
            _call_log(bot, method.name, params, 200)
        else:
            with transaction.atomic():
                result = handler(bot, params, files)
                _call_log(bot, method.name, params, 200)
    except BotApiError as error:
        _call_log(bot, method.name, params, error.error_code, error.description)
        return error.error_code, error.as_dict()
    if isinstance(result, Answer):
        return 200, {"ok": True, "result": result.result, "description": result.description}
    return 200, {"ok": True, "result": result}
