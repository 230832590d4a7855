"""The webhook's fast path: check the secret, take each update once, record who wrote and what.

Everything here runs inside the webhook request, so it writes a few rows in one short transaction of
plain SQL statements (no read-modify-write, no savepoint) and leaves replies to the worker
(``herald.bots.processing``), woken through ``herald.bots.wakeups``.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from herald.bots import wakeups
from herald.bots.models import BotMessage, BotUser, InboundUpdate, MessageDirection, TelegramBot, UpdateStatus
from herald.core.crypto import token_fingerprint
from herald.core.db.sqlite.base import writes_first
from herald.core.errors import Forbidden, InvalidInput, NotFound, Unauthorized

# the update kinds a bot acts on (reaction counts: a studio's channel analytics); the rest is acknowledged
PROCESSED_KINDS = frozenset({"message", "callback_query", "message_reaction_count"})
# How long a process trusts its copy of a bot's webhook secret fingerprint. A change made in this process
# (new secret, deactivation, deletion) applies at once; one made by another process within this many seconds.
BOT_KEY_SECONDS = 5.0

_bot_keys: dict[uuid.UUID, tuple[str, float]] = {}


@dataclass(frozen=True)
class WebhookResult:
    update_id: int
    duplicate: bool
    kind: str


def _secret_fingerprint(bot_id: uuid.UUID, *, fresh: bool = False) -> str:
    """The bot's webhook secret fingerprint ("" for no active bot), from memory for a few seconds."""
    now = time.monotonic()
    cached = None if fresh else _bot_keys.get(bot_id)
    if cached is not None and cached[1] > now:
        return cached[0]
    row = (
        TelegramBot.objects.filter(pk=bot_id, is_active=True)
        .values_list("webhook_secret_fingerprint", flat=True)
        .first()
    )
    fingerprint = row or ""
    _bot_keys[bot_id] = (fingerprint, now + BOT_KEY_SECONDS)
    return fingerprint


def forget_bot_key(bot_id: uuid.UUID) -> None:
    _bot_keys.pop(bot_id, None)


def _check_secret(bot_id: uuid.UUID, secret: str | None) -> None:
    fingerprint = _secret_fingerprint(bot_id)
    if not fingerprint:
        raise NotFound("No active bot has this webhook.", code="unknown_bot")
    if not secret:
        raise Unauthorized("The X-Telegram-Bot-Api-Secret-Token header is missing.", code="missing_secret")
    given = token_fingerprint(secret)
    if hmac.compare_digest(given, fingerprint):
        return
    # the secret may have changed in another process since we read it: read it again before refusing
    fingerprint = _secret_fingerprint(bot_id, fresh=True)
    if not fingerprint:
        raise NotFound("No active bot has this webhook.", code="unknown_bot")
    if not hmac.compare_digest(given, fingerprint):
        raise Forbidden("The X-Telegram-Bot-Api-Secret-Token header is wrong.", code="wrong_secret")


def update_kind(payload: dict[str, Any]) -> str:
    return next((key for key in payload if key != "update_id"), "unknown")


def _sender_and_chat(kind: str, body: dict[str, Any]) -> tuple[dict[str, Any] | None, int | None]:
    if kind == "callback_query":
        message = body.get("message") or {}
        return body.get("from"), (message.get("chat") or {}).get("id")
    return body.get("from"), (body.get("chat") or {}).get("id")


def message_type(message: dict[str, Any]) -> str:
    text = message.get("text")
    if isinstance(text, str) and text.startswith("/"):
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


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_update(body: bytes) -> dict[str, Any]:
    try:
        # NaN and Infinity are not JSON (Python reads them; databases refuse to store them)
        payload = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The update is not valid JSON: {exc}", code="invalid_update") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
        raise InvalidInput("An update is a JSON object with an integer update_id.", code="invalid_update")
    if not -(2**63) <= payload["update_id"] < 2**63:
        raise InvalidInput("update_id is out of range.", code="invalid_update")
    return payload


@dataclass
class _Update:
    """One webhook's rows to write, and (once written) the update's pk or the error that stopped it."""

    bot_id: uuid.UUID
    update_id: int
    kind: str
    chat_id: int | None
    sender: dict[str, Any] | None
    inner: dict[str, Any]
    raw: str
    status: str
    pk: int | None = None
    # cleared once the rows are committed (or found to exist): an update nobody wrote is never acknowledged
    error: BaseException | None = field(
        default_factory=lambda: OperationalError("the update was not written")
    )
    leads: bool = False
    done: threading.Event = field(default_factory=threading.Event)


def webhook_receive(*, bot_id: uuid.UUID, secret: str | None, body: bytes) -> WebhookResult:
    """Accept one update from Telegram. Raises NotFound / Unauthorized / Forbidden / InvalidInput."""
    _check_secret(bot_id, secret)
    payload = parse_update(body)
    kind = update_kind(payload)
    content = payload.get(kind)
    inner: dict[str, Any] = content if isinstance(content, dict) else {}
    sender, chat_id = _sender_and_chat(kind, inner)
    try:
        raw = body.decode()
    except UnicodeDecodeError:  # JSON in UTF-16/32: store it re-encoded
        raw = json.dumps(payload)
    update = _Update(
        bot_id=bot_id,
        update_id=payload["update_id"],
        kind=kind,
        chat_id=_int_or_none(chat_id),
        sender=sender if isinstance(sender, dict) else None,
        inner=inner,
        raw=raw,
        status=UpdateStatus.RECEIVED if kind in PROCESSED_KINDS else UpdateStatus.IGNORED,
    )
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        _group.write(update)
    else:
        _write_alone(update)
    if isinstance(update.error, IntegrityError):
        # the bot was deleted since its secret was checked (the foreign key refused the rows)
        forget_bot_key(bot_id)
        if not TelegramBot.objects.filter(pk=bot_id).exists():
            raise NotFound("No active bot has this webhook.", code="unknown_bot") from None
    if update.error is not None:
        raise update.error
    if update.pk is not None and update.status == UpdateStatus.RECEIVED:
        wakeups.update_received(update.pk)
    return WebhookResult(update_id=update.update_id, duplicate=update.pk is None, kind=kind)


def _write_alone(update: _Update) -> None:
    try:
        with writes_first(connection), transaction.atomic():
            new_users = _record(update)
            if update.pk is not None:
                _count(update.bot_id, requests=1, new_users=new_users)
    except Exception as exc:
        update.pk, update.error = None, exc
    else:
        update.error = None


def _write_together(updates: list[_Update]) -> None:
    """One transaction for all; if it fails (e.g. one bot was deleted meanwhile), each alone."""
    try:
        # Telegram waits on these rows: they take SQLite's lock before a worker's writes
        with writes_first(connection), transaction.atomic():
            counts: dict[uuid.UUID, list[int]] = {}
            for update in updates:
                new_users = _record(update)
                if update.pk is not None:
                    count = counts.setdefault(update.bot_id, [0, 0])
                    count[0] += 1
                    count[1] += new_users
            for bot_id, (requests, new_users) in counts.items():
                _count(bot_id, requests=requests, new_users=new_users)
    except Exception:
        for update in updates:
            _write_alone(update)
    else:
        for update in updates:
            update.error = None


class _GroupCommit:
    """SQLite admits one writer at a time, so the webhook threads of a process queue here, and whichever
    finds no write running writes everything queued so far in one transaction: one turn at the write lock
    (see herald/core/db/sqlite) and one commit for many updates, each acknowledged only once its rows are
    committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Update] = []
        self._writing = False

    def write(self, update: _Update) -> None:
        with self._lock:
            self._queue.append(update)
            leads = not self._writing
            self._writing = True
        if not leads:
            update.done.wait()
            if not update.leads:
                return  # written by another thread
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            _write_together(batch)
        finally:
            with self._lock:
                if self._queue:  # the next writer is the oldest waiting thread
                    self._queue[0].leads = True
                    self._queue[0].done.set()
                else:
                    self._writing = False
            for other in batch:
                if other is not update:
                    other.done.set()


_group = _GroupCommit()


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and -(2**63) <= value < 2**63 else None


def _bot_param(bot_id: uuid.UUID) -> Any:
    return bot_id if connection.features.has_native_uuid_field else bot_id.hex


def _count(bot_id: uuid.UUID, *, requests: int, new_users: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_statements(connection.vendor).count, [requests, new_users, _bot_param(bot_id)])


def _record(update: _Update) -> int:
    """Write the update, its user and message; sets ``update.pk`` (None if the update was taken already)
    and returns how many users it created."""
    sql = _statements(connection.vendor)
    bot = _bot_param(update.bot_id)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    inner, chat_id = update.inner, update.chat_id
    with connection.cursor() as cursor:
        cursor.execute(
            sql.insert_update,
            [bot, update.update_id, chat_id, update.kind[:32], update.raw, update.status, "", now],
        )
        row = cursor.fetchone()
        update.pk = None if row is None else int(row[0])
        if row is None:
            return 0  # Telegram sent it again: the first delivery has (or will have) its effect
        if not update.sender or chat_id is None or chat_id <= 0:
            return 0
        blocked = update.kind == "my_chat_member" and (inner.get("new_chat_member") or {}).get("status") in (
            "kicked",
            "left",
        )
        user_pk, created = _upsert_user(cursor, sql, bot, chat_id, update.sender, blocked, now)
        if update.kind == "message":
            cursor.execute(
                sql.insert_message,
                [
                    bot,
                    user_pk,
                    message_type(inner),
                    MessageDirection.INCOMING.value,
                    str(inner.get("text") or inner.get("caption") or ""),
                    _file_id(inner)[:255],
                    "",
                    _int_or_none(inner.get("message_id")),
                    now,
                ],
            )
    return int(created)


def _upsert_user(
    cursor: Any,
    sql: _Statements,
    bot: Any,
    chat_id: int,
    sender: dict[str, Any],
    blocked: bool,
    now: Any,
) -> tuple[int, bool]:
    """The BotUser's pk and whether this update created it: one statement for a user seen before."""
    fields = [
        str(sender.get("username") or "")[:64],
        str(sender.get("first_name") or "")[:128],
        str(sender.get("last_name") or "")[:128],
        str(sender.get("language_code") or "")[:16],
    ]
    for _ in range(2):
        cursor.execute(sql.update_user, [*fields, blocked, now, bot, chat_id])
        row = cursor.fetchone()
        if row is not None:
            return int(row[0]), False
        cursor.execute(sql.insert_user, [bot, chat_id, *fields, "", "", "", blocked, True, now, now])
        row = cursor.fetchone()
        if row is not None:
            return int(row[0]), True
        # (PostgreSQL) another request created this user between our two statements: update it instead
    raise IntegrityError(f"bot user {chat_id} could be neither created nor updated")


@dataclass(frozen=True)
class _Statements:
    insert_update: str
    update_user: str
    insert_user: str
    insert_message: str
    count: str


@cache
def _statements(vendor: str) -> _Statements:
    """The webhook's SQL, built once from the models' table and column names."""
    q = connection.ops.quote_name

    def column(model: Any, name: str) -> str:
        return q(model._meta.get_field(name).column)

    def columns(model: Any, names: list[str]) -> str:
        return ", ".join(column(model, name) for name in names)

    def table(model: Any) -> str:
        return q(model._meta.db_table)

    json_value = "%s::jsonb" if vendor == "postgresql" else "%s"
    update_cols = ["bot", "update_id", "chat_id", "kind", "payload", "status", "error", "received_at"]
    user_cols = ["username", "first_name", "last_name", "language"]
    new_user_cols = [
        "bot",
        "chat_id",
        *user_cols,
        "phone",
        "bio",
        "profile_photo",
        "is_blocked",
        "is_active",
        "first_interaction",
        "last_interaction",
    ]
    message_cols = [
        "bot",
        "user",
        "message_type",
        "direction",
        "text",
        "file_id",
        "file_url",
        "telegram_message_id",
        "created_at",
    ]
    user_set = ", ".join(f"{column(BotUser, name)} = %s" for name in user_cols)
    bot_col, chat_col = column(BotUser, "bot"), column(BotUser, "chat_id")
    request_count, user_count = q("request_count"), q("user_count")
    # identifiers come from the models' metadata, quoted; every value is a query parameter
    return _Statements(
        insert_update=(
            f"INSERT INTO {table(InboundUpdate)} ({columns(InboundUpdate, update_cols)}) "  # noqa: S608
            f"VALUES (%s, %s, %s, %s, {json_value}, %s, %s, %s) "
            f"ON CONFLICT ({q('bot_id')}, {q('update_id')}) DO NOTHING RETURNING {q('id')}"
        ),
        update_user=(
            f"UPDATE {table(BotUser)} SET {user_set}, {q('is_blocked')} = %s, {q('last_interaction')} = %s "  # noqa: S608
            f"WHERE {bot_col} = %s AND {chat_col} = %s RETURNING {q('id')}"
        ),
        insert_user=(
            f"INSERT INTO {table(BotUser)} ({columns(BotUser, new_user_cols)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(new_user_cols))}) "
            f"ON CONFLICT ({bot_col}, {chat_col}) DO NOTHING RETURNING {q('id')}"
        ),
        insert_message=(
            f"INSERT INTO {table(BotMessage)} ({columns(BotMessage, message_cols)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(message_cols))})"
        ),
        count=(
            f"UPDATE {table(TelegramBot)} SET {request_count} = {request_count} + %s, "  # noqa: S608
            f"{user_count} = {user_count} + %s WHERE {q('id')} = %s"
        ),
    )
