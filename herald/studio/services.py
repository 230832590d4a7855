"""Every write of the studio: its settings (checked with Telegram first), the whitelist, editors' sessions and
the audit log."""

from __future__ import annotations

import contextlib
import re
import zoneinfo
from collections.abc import Callable
from typing import Any, Literal

from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from herald.bots.models import TelegramBot
from herald.content import services as content
from herald.core.errors import Conflict, InvalidInput
from herald.studio.models import AuditEntry, EditorSession, Studio, StudioEditor
from herald.studio.states import State
from herald.telegram.client import call
from herald.telegram.errors import TelegramError

_CHANNEL = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{1,16})$")
MAX_EDITORS = 200
# The bot's commands, offered by Telegram's menu button in the editors' chats.
BOT_COMMANDS = [
    {"command": "start", "description": "Main menu"},
    {"command": "new", "description": "Write a new post"},
    {"command": "drafts", "description": "Your drafts"},
    {"command": "scheduled", "description": "Scheduled posts"},
    {"command": "analytics", "description": "Channel analytics"},
    {"command": "settings", "description": "Studio settings (admins)"},
    {"command": "help", "description": "What each command does"},
]


class StudioSettingsIn(BaseModel):
    """The ``studio`` block of ``PATCH /api/bots/{id}``."""

    model_config = ConfigDict(extra="forbid")

    channel: str | None = Field(default=None, max_length=64)
    editors: list[int] | None = Field(default=None, max_length=MAX_EDITORS)
    admins: list[int] | None = Field(default=None, max_length=MAX_EDITORS)
    language: Literal["hy", "ru", "en"] | None = None
    timezone: str | None = Field(default=None, max_length=64)
    default_format: Literal["selling", "collection", "info", "promo"] | None = None
    interface_language: Literal["en", "hy", "ru"] | None = None


def timezone_checked(name: str, *, field: str = "timezone") -> str:
    name = name.strip()
    try:
        if not name or "\x00" in name:
            raise ValueError(name)
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"{field}: {name[:64]!r} is not a time zone; use an IANA name such as Asia/Yerevan.",
            field=field,
            code="invalid_timezone",
        ) from exc
    return name


def _user_ids(values: list[int], field: str) -> list[int]:
    for value in values:
        if not 1 <= value < 2**52:
            raise InvalidInput(f"{field}: {value} is not a Telegram user id.", field=field)
    return list(dict.fromkeys(values))


def channel_resolve(*, bot: TelegramBot, channel: str) -> dict[str, Any]:
    """The channel's id, username and title, after checking with getChatMember that the bot can post there."""
    channel = channel.strip()
    if not _CHANNEL.match(channel):
        raise InvalidInput(
            "studio.channel: give the channel as @username or its -100… id.",
            field="studio.channel",
            code="invalid_channel",
        )
    chat_ref: int | str = int(channel) if channel.lstrip("-").isdigit() else channel
    try:
        chat = dict(call(bot.token, "getChat", chat_id=chat_ref))
        bot_id = bot.telegram_id or int(dict(call(bot.token, "getMe"))["id"])
        member = dict(call(bot.token, "getChatMember", chat_id=chat["id"], user_id=bot_id))
    except TelegramError as exc:
        raise InvalidInput(
            f"studio.channel: Telegram cannot find {channel} for this bot: {exc.description}",
            field="studio.channel",
            code="channel_not_found",
        ) from exc
    if chat.get("type") != "channel":
        raise InvalidInput(
            f"studio.channel: {channel} is a {chat.get('type', 'chat')}, not a channel.",
            field="studio.channel",
            code="not_a_channel",
        )
    can_post = member.get("status") == "creator" or (
        member.get("status") == "administrator" and member.get("can_post_messages", False)
    )
    if not can_post:
        name = f"@{bot.username}" if bot.username else "the bot"
        raise InvalidInput(
            f"studio.channel: {name} cannot post in {channel} (it is {member.get('status', 'not a member')}"
            "): add it as an administrator with the right to post messages.",
            field="studio.channel",
            code="bot_cannot_post",
        )
    return {"id": str(chat["id"]), "username": chat.get("username") or "", "title": chat.get("title") or ""}


def studio_settings_prepare(bot: TelegramBot, block: dict[str, Any] | None) -> Callable[[], None]:
    """Check a studio's settings (with Telegram for the channel); returns the function that saves them.

    Nothing is written here, so a refused block leaves the bot and the studio as they were.
    """
    try:
        data = StudioSettingsIn.model_validate(block or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(
            f"studio.{where}: {first['msg']}",
            field=f"studio.{where}",
            errors=[
                {"field": "studio." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                for e in exc.errors()
            ],
        ) from exc
    existing = Studio.objects.filter(bot=bot).first()
    if existing is None and not data.channel:
        raise InvalidInput(
            "studio.channel: a studio needs the channel it posts to.", field="studio.channel", code="missing"
        )
    zone = timezone_checked(data.timezone, field="studio.timezone") if data.timezone is not None else None
    editors = _user_ids(data.editors, "studio.editors") if data.editors is not None else None
    admins = _user_ids(data.admins, "studio.admins") if data.admins is not None else None
    current = {e.telegram_user_id: e.is_admin for e in existing.editors.all()} if existing is not None else {}
    whitelist = dict(current) if editors is None else {uid: current.get(uid, False) for uid in editors}
    if admins is not None:
        whitelist = {uid: uid in admins for uid in whitelist}
        whitelist.update({uid: True for uid in admins})
    if len(whitelist) > MAX_EDITORS:
        raise InvalidInput(f"studio.editors: at most {MAX_EDITORS} editors.", field="studio.editors")
    if not any(whitelist.values()):
        raise InvalidInput(
            "studio.admins: name at least one admin (a Telegram user id) who can change the settings.",
            field="studio.admins",
            code="no_admin",
        )
    chat = channel_resolve(bot=bot, channel=data.channel) if data.channel else None
    if chat is not None:
        with contextlib.suppress(TelegramError):  # a convenience: the editors' command menu
            call(bot.token, "setMyCommands", commands=BOT_COMMANDS)

    def apply() -> None:
        studio = Studio.objects.select_for_update().filter(bot=bot).first()
        fields: dict[str, Any] = {
            key: value
            for key, value in {
                "language": data.language,
                "default_format": data.default_format,
                "interface_language": data.interface_language,
                "timezone": zone,
            }.items()
            if value is not None
        }
        timezone_name = zone or (studio.timezone if studio is not None else "Asia/Yerevan")
        if chat is not None:
            fields["destination"] = content.destination_for_telegram_chat(
                bot=bot,
                chat_id=chat["id"],
                username=chat["username"],
                title=chat["title"],
                timezone=timezone_name,
            )
            fields["channel"] = data.channel
        if studio is None:
            studio = Studio.objects.create(bot=bot, **fields)
        elif fields:
            for key, value in fields.items():
                setattr(studio, key, value)
            studio.save()
        if editors is not None or admins is not None:
            editors_replace(studio=studio, whitelist=whitelist)

    return apply


def studio_settings_describe(bot: TelegramBot) -> dict[str, Any] | None:
    studio = Studio.objects.filter(bot=bot).select_related("destination").first()
    if studio is None:
        return None
    editors = list(studio.editors.all())
    return {
        "channel": studio.channel,
        "channel_id": studio.destination.chat_id,
        "editors": [e.telegram_user_id for e in editors],
        "admins": [e.telegram_user_id for e in editors if e.is_admin],
        "language": studio.language,
        "timezone": studio.timezone,
        "default_format": studio.default_format,
        "interface_language": studio.interface_language,
    }


@transaction.atomic
def editors_replace(*, studio: Studio, whitelist: dict[int, bool]) -> None:
    """The whitelist becomes exactly ``whitelist`` (user id -> is admin)."""
    StudioEditor.objects.filter(studio=studio).exclude(telegram_user_id__in=list(whitelist)).delete()
    for uid, is_admin in whitelist.items():
        StudioEditor.objects.update_or_create(
            studio=studio, telegram_user_id=uid, defaults={"is_admin": is_admin}
        )


def editor_add(*, studio: Studio, telegram_user_id: int, is_admin: bool = False) -> StudioEditor:
    _user_ids([telegram_user_id], "telegram_user_id")
    if studio.editors.count() >= MAX_EDITORS:
        raise InvalidInput(f"A studio has at most {MAX_EDITORS} editors.")
    editor, _ = StudioEditor.objects.get_or_create(
        studio=studio, telegram_user_id=telegram_user_id, defaults={"is_admin": is_admin}
    )
    return editor


def _last_admin(studio: Studio, telegram_user_id: int) -> bool:
    admins = set(studio.editors.filter(is_admin=True).values_list("telegram_user_id", flat=True))
    return admins == {telegram_user_id}


def editor_remove(*, studio: Studio, telegram_user_id: int) -> None:
    if _last_admin(studio, telegram_user_id):
        raise Conflict("The last admin cannot be removed: make another editor an admin first.")
    StudioEditor.objects.filter(studio=studio, telegram_user_id=telegram_user_id).delete()
    EditorSession.objects.filter(studio=studio, telegram_user_id=telegram_user_id).delete()


def editor_admin_toggle(*, studio: Studio, telegram_user_id: int) -> StudioEditor:
    editor = StudioEditor.objects.filter(studio=studio, telegram_user_id=telegram_user_id).first()
    if editor is None:
        raise InvalidInput(f"{telegram_user_id} is not an editor of this studio.")
    if editor.is_admin and _last_admin(studio, telegram_user_id):
        raise Conflict("The studio needs at least one admin.")
    editor.is_admin = not editor.is_admin
    editor.save(update_fields=["is_admin"])
    return editor


@transaction.atomic
def studio_update(
    *,
    studio: Studio,
    language: str | None = None,
    timezone: str | None = None,
    default_format: str | None = None,
    interface_language: str | None = None,
) -> Studio:
    """An admin changes a setting from the chat."""
    data = StudioSettingsIn.model_validate(
        {
            "language": language,
            "timezone": timezone,
            "default_format": default_format,
            "interface_language": interface_language,
        }
    )
    if data.timezone is not None:
        studio.timezone = timezone_checked(data.timezone)
        # the channel's analytics count days in the same zone the editors schedule in
        content.destination_for_telegram_chat(
            bot=studio.bot, chat_id=studio.destination.chat_id, timezone=studio.timezone
        )
    for key in ("language", "default_format", "interface_language"):
        value = getattr(data, key)
        if value is not None:
            setattr(studio, key, value)
    studio.save()
    return studio


def audit_record(
    *,
    studio: Studio,
    telegram_user_id: int,
    action: str,
    post_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        studio=studio,
        telegram_user_id=telegram_user_id,
        action=action[:48],
        post_id=post_id,
        detail=detail or {},
    )


def session_locked(*, studio: Studio, telegram_user_id: int) -> EditorSession:
    """The editor's session, locked until the caller's transaction ends (one update at a time per editor)."""
    session, _ = EditorSession.objects.get_or_create(studio=studio, telegram_user_id=telegram_user_id)
    # only the session row: PostgreSQL cannot lock the nullable side of the join to its post
    return EditorSession.objects.select_for_update(of=("self",)).select_related("post").get(pk=session.pk)


_KEEP: Any = object()


def session_save(
    *, session: EditorSession, state: State | str, post: Any = _KEEP, data: dict[str, Any] | None = None
) -> EditorSession:
    """Move the editor to ``state``; ``post`` (None to forget it) and ``data`` are replaced when given."""
    session.state = str(state)
    if post is not _KEEP:
        session.post = post
    if data is not None:
        session.data = data
    session.version += 1
    session.save()
    return session
