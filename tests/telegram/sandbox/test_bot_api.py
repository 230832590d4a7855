"""The Bot API endpoint read and checked like Telegram: transports, the spec's fields and types, limits."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from herald.telegram.sandbox.spec import bot_api_spec
from tests.telegram.sandbox.helpers import (
    SandboxBot,
    sandbox_bot,
    sandbox_group,
    sandbox_messages,
    sandbox_send,
    sandbox_user,
)

pytestmark = pytest.mark.django_db


def call(client: Client, bot: SandboxBot, method: str, **params: Any) -> Any:
    return client.post(f"/sandbox/bot{bot.token}/{method}", params, content_type="application/json")


def test_unknown_method_and_unknown_token(client: Client, shop_bot: SandboxBot) -> None:
    unknown = client.post(f"/sandbox/bot{shop_bot.token}/sendTelepathy")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    stranger = client.get("/sandbox/bot123:nope/getMe")
    assert stranger.status_code == 401
    assert stranger.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert client.get(f"/sandbox/bot{shop_bot.token}").status_code == 404


def test_method_names_are_case_insensitive_and_every_transport_works(
    client: Client, shop_bot: SandboxBot, ann: int
) -> None:
    base = f"/sandbox/bot{shop_bot.token}"
    as_query = client.get(f"{base}/SENDMESSAGE", {"chat_id": str(ann), "text": "query"})
    as_form = client.post(f"{base}/sendmessage", {"chat_id": str(ann), "text": "form"})
    as_json = client.post(
        f"{base}/sendMessage", {"chat_id": ann, "text": "json"}, content_type="application/json"
    )
    assert [r.status_code for r in (as_query, as_form, as_json)] == [200, 200, 200]
    assert [m["text"] for m in sandbox_messages(ann, shop_bot)] == ["query", "form", "json"]
    assert [c["method"] for c in client.get("/sandbox/api/calls", {"bot": "shop_bot"}).json()] == [
        "sendMessage"
    ] * 3


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        (
            "sendMessage",
            {"chat_id": {"x": 1}, "text": "hi"},
            'field "chat_id" must be of type Integer or String',
        ),
        ("sendMessage", {"text": "hi"}, "chat_id is empty"),
        ("sendMessage", {"chat_id": "ANN", "text": "   "}, "message text is empty"),
        (
            "sendMessage",
            {"chat_id": "ANN", "text": "hi", "disable_notification": "maybe"},
            'field "disable_notification" must be of type Boolean',
        ),
        (
            "sendMessage",
            {"chat_id": "ANN", "text": "hi", "reply_markup": "{oops"},
            "can't parse reply keyboard markup JSON object",
        ),
        (
            "sendMessage",
            {"chat_id": "ANN", "text": "hi", "reply_markup": {"inline_keyboard": [[{"text": "A"}]]}},
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ),
        (
            "sendMessage",
            {
                "chat_id": "ANN",
                "text": "hi",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "x" * 65}]]},
            },
            "BUTTON_DATA_INVALID",
        ),
        ("sendMessage", {"chat_id": "ANN", "text": "hi", "parse_mode": "BBCode"}, "unsupported parse_mode"),
        (
            "sendMessage",
            {"chat_id": "ANN", "text": "<blink>hi</blink>", "parse_mode": "HTML"},
            'can\'t parse entities: Unsupported start tag "blink" at byte offset 0',
        ),
        (
            "sendMessage",
            {"chat_id": "ANN", "text": "é <b>x</i>", "parse_mode": "HTML"},
            'can\'t parse entities: Unmatched end tag at byte offset 7, expected "</b>", found "</i>"',
        ),
        ("sendMessage", {"chat_id": "@nobody", "text": "hi"}, "chat not found"),
        ("sendPhoto", {"chat_id": "ANN"}, "there is no photo in the request"),
        (
            "sendPhoto",
            {"chat_id": "ANN", "photo": "no-such-file-id"},
            "wrong file identifier/HTTP URL specified",
        ),
        (
            "sendPhoto",
            {"chat_id": "ANN", "photo": "https://example.org/a.jpg", "caption": "c" * 1025},
            "message caption is too long",
        ),
        (
            "editMessageText",
            {"chat_id": "ANN", "message_id": "abc", "text": "x"},
            'field "message_id" must be of type Integer',
        ),
        ("deleteMessage", {"chat_id": "ANN", "message_id": 77}, "message to delete not found"),
        ("getFile", {"file_id": "nope"}, "invalid file_id"),
        ("setMyCommands", {"commands": [{"command": "Start!", "description": "go"}]}, "BOT_COMMAND_INVALID"),
        ("setMyCommands", {"commands": "start"}, 'field "commands" must be a JSON-serialized array'),
        ("sendPoll", {"chat_id": "ANN"}, "question is empty"),
        (
            "sendPoll",
            {"chat_id": "ANN", "question": "?", "options": '[{"text": "a"}, {"text": "b"}]'},
            "method sendPoll is not supported by the sandbox",
        ),
    ],
)
def test_bad_requests_have_telegram_descriptions(
    client: Client, shop_bot: SandboxBot, ann: int, method: str, params: dict, description: str
) -> None:
    params = {k: (ann if v == "ANN" else v) for k, v in params.items()}
    response = call(client, shop_bot, method, **params)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}


def test_other_boolean_methods_answer_true(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    response = call(client, shop_bot, "sendChatAction", chat_id=ann, action="typing")
    assert response.json() == {"ok": True, "result": True}
    assert (
        call(client, shop_bot, "sendChatAction", chat_id=ann).json()["description"]
        == "Bad Request: action is empty"
    )


def test_get_updates_offset_limit_and_confirmation(
    client: Client, shop_bot: SandboxBot, ann: int, settings: Any
) -> None:
    settings.SANDBOX_LONG_POLL_MAX_SECONDS = 0.2
    ids = [int(sandbox_send(shop_bot, ann, text).update_id or 0) for text in ("a", "b", "c", "d")]
    url = f"/sandbox/bot{shop_bot.token}/getUpdates"

    def fetch(**params: Any) -> list[int]:
        return [u["update_id"] for u in client.get(url, params).json()["result"]]

    assert fetch() == ids
    assert fetch(limit=2) == ids[:2]
    assert fetch(offset=ids[1]) == ids[1:]  # confirms the first
    assert fetch() == ids[1:]
    assert fetch(offset=-1) == ids[-1:]  # keeps only the last one, forgets the rest
    assert fetch() == ids[-1:]
    assert fetch(offset=ids[-1] + 1) == []
    started = time.monotonic()
    assert client.get(url, {"timeout": 30}).json() == {"ok": True, "result": []}
    assert 0.2 <= time.monotonic() - started < 2  # waited, but no longer than the sandbox's cap


def test_group_limit_is_twenty_a_minute(client: Client, shop_bot: SandboxBot) -> None:
    group = sandbox_group("Club", admins=["shop_bot"])
    statuses = [
        call(client, shop_bot, "sendMessage", chat_id=group, text=str(n)).status_code for n in range(20)
    ]
    assert statuses == [200] * 20
    over = call(client, shop_bot, "sendMessage", chat_id=group, text="one too many")
    assert over.status_code == 429
    body = over.json()
    assert 55 <= body["parameters"]["retry_after"] <= 60
    assert body["description"] == f"Too Many Requests: retry after {body['parameters']['retry_after']}"


def test_a_chats_limit_counts_each_bots_sends_apart(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    other_bot = sandbox_bot("other_bot")
    group = sandbox_group("Club", admins=["shop_bot", "other_bot"])
    for chat, allowed in ((ann, 3), (group, 20)):  # a private chat's burst, a group's minute
        for bot in (shop_bot, other_bot):  # two bots writing to one person count apart, as in Telegram
            statuses = [
                call(client, bot, "sendMessage", chat_id=chat, text="hi").status_code for _ in range(allowed)
            ]
            assert statuses == [200] * allowed
        assert call(client, shop_bot, "sendMessage", chat_id=chat, text="one too many").status_code == 429


def test_bot_limit_is_thirty_a_second(client: Client, shop_bot: SandboxBot) -> None:
    people = [sandbox_user(f"P{n}") for n in range(31)]
    statuses = [call(client, shop_bot, "sendMessage", chat_id=p, text="hi").status_code for p in people]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429


def test_html_entities_count_utf16_units_and_decode_escapes(
    client: Client, shop_bot: SandboxBot, ann: int
) -> None:
    text = '😀 <a href="https://herald.example/x?a=1&amp;b=2">deal</a> &lt;3 <code>x</code>'
    sent = call(client, shop_bot, "sendMessage", chat_id=ann, text=text, parse_mode="HTML").json()["result"]
    assert sent["text"] == "😀 deal <3 x"
    assert sent["entities"] == [
        {"type": "text_link", "offset": 3, "length": 4, "url": "https://herald.example/x?a=1&b=2"},
        {"type": "code", "offset": 11, "length": 1},
    ]


def test_media_group_with_attached_files(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    media = [
        {"type": "photo", "media": "attach://one", "caption": "<b>two</b> photos", "parse_mode": "HTML"},
        {"type": "photo", "media": "attach://two"},
    ]
    response = client.post(
        f"/sandbox/bot{shop_bot.token}/sendMediaGroup",
        {
            "chat_id": ann,
            "media": json.dumps(media),
            "one": SimpleUploadedFile("1.jpg", b"\xff\xd8one", content_type="image/jpeg"),
            "two": SimpleUploadedFile("2.jpg", b"\xff\xd8two", content_type="image/jpeg"),
        },
    )
    assert response.status_code == 200, response.json()
    first, second = response.json()["result"]
    assert first["media_group_id"] == second["media_group_id"]
    assert second["message_id"] == first["message_id"] + 1
    assert first["caption"] == "two photos" and first["caption_entities"][0]["type"] == "bold"
    assert first["photo"][0]["file_id"] != second["photo"][0]["file_id"]
    single = call(client, shop_bot, "sendMediaGroup", chat_id=ann, media=media[:1])
    assert single.json()["description"] == "Bad Request: wrong number of media in the group: send 2-10 items"


def test_edits_and_deletes_show_in_the_chat(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    photo = call(
        client, shop_bot, "sendPhoto", chat_id=ann, photo="https://example.org/cat.jpg", caption="cat"
    )
    message_id = photo.json()["result"]["message_id"]
    edited = call(client, shop_bot, "editMessageCaption", chat_id=ann, message_id=message_id, caption="dog")
    assert edited.json()["result"]["caption"] == "dog"
    not_text = call(client, shop_bot, "editMessageText", chat_id=ann, message_id=message_id, text="x")
    assert not_text.json()["description"] == "Bad Request: there is no text in the message to edit"
    assert (
        call(client, shop_bot, "deleteMessage", chat_id=ann, message_id=message_id).json()["result"] is True
    )
    row = sandbox_messages(ann, shop_bot)[0]
    assert (row["caption"], row["edited"], row["deleted"]) == ("dog", True, True)
    again = call(client, shop_bot, "deleteMessage", chat_id=ann, message_id=message_id)
    assert again.json()["description"] == "Bad Request: message to delete not found"


def test_commands_chat_and_member_lookups(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    commands = [{"command": "start", "description": "Start"}, {"command": "help", "description": "Help"}]
    assert call(client, shop_bot, "setMyCommands", commands=commands).json()["result"] is True
    assert call(client, shop_bot, "getMyCommands").json()["result"] == commands
    chat = call(client, shop_bot, "getChat", chat_id=ann).json()["result"]
    assert (chat["id"], chat["type"], chat["first_name"]) == (ann, "private", "Ann")
    member = call(client, shop_bot, "getChatMember", chat_id=ann, user_id=ann).json()["result"]
    assert member["status"] == "member" and member["user"]["id"] == ann
    assert call(client, shop_bot, "getChatMember", chat_id=ann, user_id=1).json()["description"] == (
        "Bad Request: user not found"
    )
    assert call(client, shop_bot, "logOut").json()["result"] is True


def test_oversized_and_unreadable_bodies(client: Client, shop_bot: SandboxBot, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = client.post(f"/sandbox/bot{shop_bot.token}/sendMessage", {"chat_id": 1, "text": "x" * 5000})
    assert big.status_code == 413 and big.json()["error_code"] == 413
    broken = client.post(f"/sandbox/bot{shop_bot.token}/sendMessage", "{", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["description"].startswith("Bad Request: can't parse")


def test_every_spec_method_is_known_and_the_copy_matches_the_shared_spec(settings: Any) -> None:
    spec = bot_api_spec()
    assert spec.version == "Bot API 10.1"
    assert spec.method("SENDMESSAGE") is spec.method("sendMessage")
    shared = settings.BASE_DIR.parent / "shared" / "telegram" / "bot-api-10.1.json"
    if shared.exists():
        assert json.loads(shared.read_text()) == json.loads(settings.TELEGRAM_BOT_API_SPEC.read_text())
        assert len(spec.methods) == len(json.loads(shared.read_text())["methods"])


def test_text_that_is_not_valid_unicode_or_holds_nul_is_handled(
    client: Client, shop_bot: SandboxBot, ann: int
) -> None:
    broken = client.post(
        f"/sandbox/bot{shop_bot.token}/sendMessage",
        b'{"chat_id": %d, "text": "\\ud800 lone surrogate"}' % ann,
        content_type="application/json",
    )
    assert broken.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: strings must be encoded in UTF-8",
    }
    nul = call(client, shop_bot, "sendMessage", chat_id=ann, text="a\x00b")
    assert nul.json()["result"]["text"] == "ab"
    assert client.get(f"/sandbox/bot{shop_bot.token}%00/getMe").status_code == 401
    assert client.get(f"/sandbox/file/bot{shop_bot.token}/photos/x%00.jpg").status_code == 404
    assert client.get("/sandbox/api/calls", {"bot": "a\x00"}).status_code == 400


def test_limit_windows_of_quiet_chats_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    from herald.telegram.sandbox import limits

    monkeypatch.setattr(limits, "_PRUNE_ABOVE", 5)
    monkeypatch.setattr(limits.time, "monotonic", lambda: 1000.0)
    for chat in range(6):
        limits.limits_check_send(bot_id=1, chat_id=chat, chat_is_private=True)
    monkeypatch.setattr(limits.time, "monotonic", lambda: 1100.0)
    limits.limits_check_send(bot_id=1, chat_id=99, chat_is_private=True)
    assert set(limits._windows) == {("bot", 1, 0), ("chat", 1, 99)}
