"""The studio's answers, queued in the gateway's outbox in the caller's transaction: each with a dedupe key
made of where it comes from (an update, a task run) and its position, so a repeated run queues nothing
twice."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup

from herald.telegram.formatting import TEXT_LIMIT, telegram_length
from herald.telegram.services import outbox_enqueue


class Replies:
    def __init__(self, *, token: str, chat_id: int, key: str, reference: str) -> None:
        self.token = token
        self.chat_id = chat_id
        self.key = key
        self.reference = reference
        self.count = 0

    def call(self, method: str, params: dict[str, Any], *, reference: str | None = None) -> None:
        self.count += 1
        outbox_enqueue(
            token=self.token,
            chat_id=self.chat_id,
            method=method,
            params=params,
            dedupe_key=f"{self.key}:{self.count}",
            reference=reference or self.reference,
        )

    def send(
        self, text: str, markup: InlineKeyboardMarkup | None = None, *, reference: str | None = None
    ) -> None:
        params: dict[str, Any] = {
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if markup is not None:
            params["reply_markup"] = markup
        self.call("sendMessage", params, reference=reference)

    def edit(self, message_id: int | None, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        """Edit a bot message into ``text``; a new message when there is none or the text is too long."""
        if message_id is None or telegram_length(text) > TEXT_LIMIT:
            self.send(text, markup)
            return
        params: dict[str, Any] = {
            "message_id": message_id,
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if markup is not None:
            params["reply_markup"] = markup
        self.call("editMessageText", params)

    def edit_markup(self, message_id: int, markup: InlineKeyboardMarkup) -> None:
        self.call("editMessageReplyMarkup", {"message_id": message_id, "reply_markup": markup})

    def answer(self, callback_query_id: str | None, text: str = "", *, alert: bool = False) -> None:
        if not callback_query_id:
            return
        params: dict[str, Any] = {"callback_query_id": callback_query_id}
        if text:
            params["text"] = text[:200]
            params["show_alert"] = alert
        self.call("answerCallbackQuery", params)
