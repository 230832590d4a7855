"""How the engine's actions look on Telegram: keyboards as Bot API JSON, and operator reply routing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from herald.bots.flows import SendText

_OPERATOR_TAG = re.compile(r"#u(\d+)")


def reply_params(action: SendText) -> dict[str, Any]:
    """``sendMessage`` parameters for a text with its buttons. Flow texts are sent as plain text."""
    params: dict[str, Any] = {"text": action.text}
    if action.buttons and action.keyboard == "inline":
        params["reply_markup"] = {
            "inline_keyboard": [
                [
                    {"text": b.text, "url": b.url}
                    if b.url
                    else {"text": b.text, "callback_data": b.callback_data}
                    for b in row
                ]
                for row in action.buttons
            ]
        }
    elif action.buttons:
        params["reply_markup"] = {
            "keyboard": [
                [
                    {"text": b.text, "request_contact": True} if b.request_contact else {"text": b.text}
                    for b in row
                ]
                for row in action.buttons
            ],
            "resize_keyboard": True,
            "one_time_keyboard": True,
        }
    elif action.remove_keyboard:
        params["reply_markup"] = {"remove_keyboard": True}
    return params


def operator_reply_target(message: Mapping[str, Any]) -> int | None:
    """The user an operator answers when replying, in the operator chat, to a relayed message."""
    replied = message.get("reply_to_message") or {}
    match = _OPERATOR_TAG.search(replied.get("text") or "")
    return int(match.group(1)) if match else None
