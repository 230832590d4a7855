"""Per-chat message ids and per-bot update ids, each taken in one SQL statement (SQLite and PostgreSQL)."""

from __future__ import annotations

from django.db import connection

from herald.telegram.sandbox.models import Bot, BotChat, Chat


def next_private_message_id(*, bot_id: int, chat_id: int) -> tuple[int, str]:
    """Take the next message id of a bot's private chat in one statement; also says if the user blocked it."""
    table = BotChat._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (bot_id, chat_id, status, last_message_id) VALUES (%s, %s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (bot_id, chat_id) DO UPDATE SET last_message_id = {table}.last_message_id + 1 "
            "RETURNING last_message_id, status",
            [bot_id, chat_id, BotChat.Status.MEMBER],
        )
        message_id, status = cursor.fetchone()
    return int(message_id), str(status)


def next_chat_message_id(*, chat_id: int) -> int:
    """Take the next message id of a group or channel, shared by everyone posting there."""
    table = Chat._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_message_id = last_message_id + 1 WHERE id = %s "  # noqa: S608
            "RETURNING last_message_id",
            [chat_id],
        )
        return int(cursor.fetchone()[0])


def next_update_id(*, bot_id: int) -> int:
    table = Bot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_update_id = last_update_id + 1 WHERE id = %s "  # noqa: S608
            "RETURNING last_update_id",
            [bot_id],
        )
        return int(cursor.fetchone()[0])
