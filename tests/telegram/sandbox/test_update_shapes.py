"""Every kind of update the sandbox makes parses with PTB's ``Update.de_json``, as a webhook handler would."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from telegram import Update

from tests.telegram.sandbox.helpers import SandboxBot, sandbox_channel, sandbox_press, sandbox_send
from tests.telegram.sandbox.test_ptb import tiny_png

pytestmark = pytest.mark.django_db


def updates(client: Client, bot: SandboxBot) -> list[Update]:
    raw = client.get(f"/sandbox/bot{bot.token}/getUpdates").json()["result"]
    parsed = [Update.de_json(payload, None) for payload in raw]
    assert all(isinstance(update, Update) for update in parsed)
    return parsed


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(f"/sandbox/api/{path}", body, content_type="application/json")


def test_every_update_kind_parses_with_ptb(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    client.get(
        f"/sandbox/bot{shop_bot.token}/getUpdates",
        {"allowed_updates": '["message", "callback_query", "my_chat_member", "message_reaction_count"]'},
    )
    sandbox_send(shop_bot, ann, "/start deal_7")
    photo = SimpleUploadedFile("p.png", tiny_png(4, 3), content_type="image/png")
    client.post(
        "/sandbox/api/send", {"bot": "shop_bot", "from": str(ann), "photo": photo, "caption": "receipt"}
    )
    offer = client.post(
        f"/sandbox/bot{shop_bot.token}/sendMessage",
        {
            "chat_id": ann,
            "text": "Buy?",
            "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]},
        },
        content_type="application/json",
    ).json()["result"]
    sandbox_press(shop_bot, ann, offer["message_id"], "y")
    post(client, "members", {"bot": "shop_bot", "user": ann, "status": "kicked"})
    channel = sandbox_channel("Deals", admins=["shop_bot"])
    posted = client.post(
        f"/sandbox/bot{shop_bot.token}/sendMessage",
        {"chat_id": channel, "text": "New"},
        content_type="application/json",
    ).json()["result"]
    post(
        client,
        "react",
        {"bot": "shop_bot", "chat": channel, "message_id": posted["message_id"], "reactions": {"🔥": 2}},
    )

    command, photo_message, press, blocked, added, reaction = updates(client, shop_bot)

    assert command.message is not None and command.effective_user is not None
    assert command.effective_user.id == ann and command.effective_chat is not None
    assert command.message.text == "/start deal_7"
    assert command.message.parse_entities() == {command.message.entities[0]: "/start"}
    assert photo_message.message is not None and photo_message.message.caption == "receipt"
    assert (photo_message.message.photo[-1].width, photo_message.message.photo[-1].height) == (4, 3)
    assert press.callback_query is not None and press.callback_query.data == "y"
    assert (
        press.callback_query.message is not None
        and press.callback_query.message.message_id == offer["message_id"]
    )
    assert blocked.my_chat_member is not None
    assert blocked.my_chat_member.new_chat_member.status == "kicked"
    assert blocked.my_chat_member.chat.id == ann
    assert added.my_chat_member is not None and added.my_chat_member.new_chat_member.status == "administrator"
    assert added.my_chat_member.chat.type == "channel"
    assert reaction.message_reaction_count is not None
    assert reaction.message_reaction_count.reactions[0].total_count == 2
    assert reaction.message_reaction_count.chat.id == channel
