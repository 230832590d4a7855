"""The JSON control API: BotFather, people, chats, user actions, and clear 4xx answers to bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.telegram.sandbox.helpers import SandboxBot, sandbox_messages
from tests.telegram.sandbox.test_ptb import tiny_png

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(f"/sandbox/api/{path}", body, content_type="application/json")


def bot_api(client: Client, bot: SandboxBot, method: str, **params: Any) -> Any:
    return client.post(f"/sandbox/bot{bot.token}/{method}", params, content_type="application/json")


def test_botfather_gives_a_working_token(client: Client) -> None:
    made = post(client, "bots", {"username": "deals_bot", "first_name": "Deals"})
    assert made.status_code == 201
    body = made.json()
    assert body["username"] == "deals_bot" and body["token"].startswith(f"{body['id']}:")
    me = client.get(f"/sandbox/bot{body['token']}/getMe").json()["result"]
    assert me == {
        "id": body["id"],
        "is_bot": True,
        "first_name": "Deals",
        "username": "deals_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }
    assert [b["username"] for b in client.get("/sandbox/api/bots").json()] == ["deals_bot"]
    again = post(client, "bots", {"username": "Deals_Bot"})
    assert again.status_code == 409 and "already taken" in again.json()["message"]


def test_user_writes_a_command_and_the_bot_sees_a_bot_command_entity(
    client: Client, shop_bot: SandboxBot, ann: int
) -> None:
    sent = post(client, "send", {"bot": "shop_bot", "from": ann, "text": "/start promo_42"})
    assert sent.status_code == 200
    updates = client.get(f"/sandbox/bot{shop_bot.token}/getUpdates").json()["result"]
    message = updates[0]["message"]
    assert updates[0]["update_id"] == sent.json()["update_id"]
    assert message["message_id"] == sent.json()["message_id"]
    assert message["chat"] == {"id": ann, "type": "private", "first_name": "Ann", "username": "ann"}
    assert message["from"]["id"] == ann and message["from"]["is_bot"] is False
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


def test_user_sends_a_photo_with_caption(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    photo = SimpleUploadedFile("dot.png", tiny_png(5, 7), content_type="image/png")
    sent = client.post(
        "/sandbox/api/send", {"bot": "shop_bot", "from": str(ann), "caption": "look", "photo": photo}
    )
    assert sent.status_code == 200
    message = client.get(f"/sandbox/bot{shop_bot.token}/getUpdates").json()["result"][0]["message"]
    assert message["caption"] == "look"
    assert (message["photo"][0]["width"], message["photo"][0]["height"]) == (5, 7)
    file_path = bot_api(client, shop_bot, "getFile", file_id=message["photo"][0]["file_id"]).json()["result"][
        "file_path"
    ]
    download = client.get(f"/sandbox/file/bot{shop_bot.token}/{file_path}")
    assert b"".join(download.streaming_content) == tiny_png(5, 7)  # type: ignore[attr-defined]


def test_press_needs_a_matching_button(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
    sent = bot_api(client, shop_bot, "sendMessage", chat_id=ann, text="Sure?", reply_markup=keyboard).json()
    message_id = sent["result"]["message_id"]

    wrong = post(client, "press", {"bot": "shop_bot", "from": ann, "message_id": message_id, "data": "no"})
    assert wrong.status_code == 400 and "no inline button with callback_data 'no'" in wrong.json()["message"]
    missing = post(client, "press", {"bot": "shop_bot", "from": ann, "message_id": 999, "data": "yes"})
    assert missing.status_code == 400

    pressed = post(client, "press", {"bot": "shop_bot", "from": ann, "message_id": message_id, "data": "yes"})
    assert pressed.status_code == 200
    query = client.get(f"/sandbox/bot{shop_bot.token}/getUpdates").json()["result"][0]["callback_query"]
    assert query["data"] == "yes" and query["message"]["message_id"] == message_id
    assert pressed.json()["callback_query_id"] == query["id"]
    answer = client.get(f"/sandbox/api/callbacks/{query['id']}").json()
    assert (answer["answered"], answer["text"]) == (False, "")
    answered = bot_api(client, shop_bot, "answerCallbackQuery", callback_query_id=query["id"], text="Done")
    assert answered.json()["ok"] is True
    answer = client.get(f"/sandbox/api/callbacks/{query['id']}").json()
    assert (answer["answered"], answer["text"], answer["show_alert"]) == (True, "Done", False)
    assert client.get("/sandbox/api/callbacks/nope").status_code == 404
    stale = bot_api(client, shop_bot, "answerCallbackQuery", callback_query_id="42")
    assert stale.json()["description"].startswith("Bad Request: query is too old")


def test_blocking_the_bot_makes_sends_fail_with_403_and_unblocking_restores(
    client: Client, shop_bot: SandboxBot, ann: int
) -> None:
    blocked = post(client, "members", {"bot": "shop_bot", "user": ann, "status": "kicked"})
    assert blocked.status_code == 200
    refused = bot_api(client, shop_bot, "sendMessage", chat_id=ann, text="hello?")
    assert refused.status_code == 403
    assert refused.json() == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    post(client, "members", {"bot": "shop_bot", "user": ann, "status": "member"})
    assert bot_api(client, shop_bot, "sendMessage", chat_id=ann, text="welcome back").status_code == 200
    kinds = [
        (u["my_chat_member"]["old_chat_member"]["status"], u["my_chat_member"]["new_chat_member"]["status"])
        for u in client.get(f"/sandbox/bot{shop_bot.token}/getUpdates").json()["result"]
    ]
    assert kinds == [("member", "kicked"), ("kicked", "member")]


def test_channels_take_posts_from_admin_bots_only(client: Client, shop_bot: SandboxBot) -> None:
    other = post(client, "bots", {"username": "other_bot"}).json()
    channel = post(
        client, "channels", {"title": "Deals", "username": "deals", "admins": ["shop_bot"]}
    ).json()["id"]
    assert str(channel).startswith("-100")
    posted = bot_api(client, shop_bot, "sendMessage", chat_id="@deals", text="New offer").json()["result"]
    assert posted["chat"] == {"id": channel, "type": "channel", "title": "Deals", "username": "deals"}
    assert posted["sender_chat"]["id"] == channel and "from" not in posted
    outsider = client.post(
        f"/sandbox/bot{other['token']}/sendMessage",
        {"chat_id": channel, "text": "hi"},
        content_type="application/json",
    )
    assert outsider.status_code == 403
    assert outsider.json()["description"] == "Forbidden: bot is not a member of the channel chat"
    assert [m["text"] for m in client.get(f"/sandbox/api/chats/{channel}/messages").json()] == ["New offer"]
    admin = bot_api(client, shop_bot, "getChatMember", chat_id=channel, user_id=shop_bot.id).json()["result"]
    assert admin["status"] == "administrator" and admin["can_post_messages"] is True
    added = client.get(f"/sandbox/bot{shop_bot.token}/getUpdates").json()["result"][0]["my_chat_member"]
    assert added["chat"]["id"] == channel and added["new_chat_member"]["status"] == "administrator"


def test_reactions_reach_bots_that_asked_for_them(client: Client, shop_bot: SandboxBot) -> None:
    channel = post(client, "channels", {"title": "Deals", "admins": ["shop_bot"]}).json()["id"]
    message_id = bot_api(client, shop_bot, "sendMessage", chat_id=channel, text="Vote").json()["result"][
        "message_id"
    ]
    body = {"bot": "shop_bot", "chat": channel, "message_id": message_id, "reactions": {"👍": 3}}
    not_asked = post(client, "react", body)
    assert not_asked.status_code == 409 and "allowed_updates" in not_asked.json()["message"]
    client.get(f"/sandbox/bot{shop_bot.token}/getUpdates", {"allowed_updates": '["message_reaction_count"]'})
    assert post(client, "react", body).status_code == 200
    update = client.get(f"/sandbox/bot{shop_bot.token}/getUpdates").json()["result"][-1]
    assert update["message_reaction_count"]["reactions"] == [
        {"type": {"type": "emoji", "emoji": "👍"}, "total_count": 3}
    ]


def test_calls_are_recorded_with_status(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    bot_api(client, shop_bot, "sendMessage", chat_id=ann, text="one")
    bot_api(client, shop_bot, "sendMessage", chat_id=ann)
    calls = client.get("/sandbox/api/calls", {"bot": "shop_bot"}).json()
    assert [(c["method"], c["status"]) for c in calls] == [("sendMessage", 200), ("sendMessage", 400)]
    assert calls[0]["params"] == {"chat_id": ann, "text": "one"}
    assert calls[1]["description"] == "Bad Request: message text is empty"


def test_limits_switch(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    assert post(client, "limits", {"enabled": False}).json() == {"enabled": False}
    statuses = {
        bot_api(client, shop_bot, "sendMessage", chat_id=ann, text=str(n)).status_code for n in range(8)
    }
    assert statuses == {200}
    assert post(client, "limits", {"enabled": True}).json() == {"enabled": True}
    statuses = {
        bot_api(client, shop_bot, "sendMessage", chat_id=ann, text=str(n)).status_code for n in range(8)
    }
    assert statuses == {200, 429}
    assert post(client, "limits", {"enabled": "no"}).status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("bots", {}, 400, '"username" is required'),
        ("bots", {"username": "a b"}, 400, "letters, digits or underscores"),
        ("users", {"username": "x_y_z"}, 400, '"first_name" is required'),
        ("send", {"bot": "nobody_bot", "from": 1, "text": "hi"}, 400, "no sandbox bot 'nobody_bot'"),
        ("send", {"bot": "shop_bot", "from": "ann", "text": "hi"}, 400, '"from" must be a user id'),
        ("send", {"bot": "shop_bot", "from": 12345, "text": "hi"}, 400, "no sandbox user 12345"),
        ("channels", {"title": "X", "admins": "shop_bot"}, 400, '"admins" must be a list'),
        ("react", {"bot": "shop_bot", "chat": 1, "message_id": 1, "reactions": {}}, 404, "no sandbox chat 1"),
        ("members", {"bot": "shop_bot", "user": 1, "status": "left"}, 400, "no sandbox user 1"),
        ("redeliver", {"bot": "shop_bot", "update_id": 1}, 409, "has no webhook"),
        ("press", {"bot": "shop_bot", "from": 1, "message_id": "x", "data": "a"}, 400, "no sandbox user 1"),
        ("nowhere", {}, 404, "no such sandbox endpoint"),
    ],
)
def test_bad_control_input_is_a_clear_4xx(
    client: Client, shop_bot: SandboxBot, path: str, body: dict, status: int, fragment: str
) -> None:
    response = post(client, path, body)
    assert response.status_code == status
    assert fragment in response.json()["message"]


def test_malformed_json_and_wrong_http_method(client: Client, shop_bot: SandboxBot) -> None:
    broken = client.post("/sandbox/api/bots", "{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["code"] == "malformed_json"
    assert client.post("/sandbox/api/bots", "[1]", content_type="application/json").status_code == 400
    assert client.get("/sandbox/api/send").status_code == 405


def test_private_chat_messages_need_a_bot(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    response = client.get(f"/sandbox/api/chats/{ann}/messages")
    assert response.status_code == 400 and '"bot" is required' in response.json()["message"]
    assert client.get("/sandbox/api/chats/abc/messages").status_code == 400
    assert sandbox_messages(ann, shop_bot) == []


def test_uploaded_files_are_inline_only_when_they_are_plain_images(
    client: Client, shop_bot: SandboxBot, ann: int
) -> None:
    page = SimpleUploadedFile("x.html", b"<script>alert(1)</script>", content_type="text/html")
    client.post("/sandbox/api/send", {"bot": "shop_bot", "from": str(ann), "document": page})
    photo = SimpleUploadedFile("dot.png", tiny_png(), content_type="image/png")
    client.post("/sandbox/api/send", {"bot": "shop_bot", "from": str(ann), "photo": photo})
    document, image = sandbox_messages(ann, shop_bot)
    served = client.get(document["media"]["url"])
    assert served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"].startswith("attachment")
    shown = client.get(image["media"]["url"])
    assert shown["Content-Type"] == "image/png" and "attachment" not in shown.get("Content-Disposition", "")


def test_unknown_sandbox_paths_are_json_404s(client: Client) -> None:
    response = client.get("/sandbox/no/such/page")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_the_admin_shows_sandbox_rows_read_only(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-123456789")
    client.force_login(admin)
    bot_api(client, shop_bot, "sendMessage", chat_id=ann, text="hello")
    post(client, "send", {"bot": "shop_bot", "from": ann, "text": "/start"})
    for model in ("bot", "user", "chat", "botchat", "message", "update", "file", "callbackquery", "call"):
        page = client.get(f"/admin/sandbox/{model}/")
        assert page.status_code == 200, model
    assert b"hello" in client.get("/admin/sandbox/message/").content
    assert client.get("/admin/sandbox/bot/add/").status_code == 403
