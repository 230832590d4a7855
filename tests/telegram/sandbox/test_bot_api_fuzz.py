"""Any request to any spec method, with values of any type, gets a Telegram-shaped 4xx or 200, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herald.telegram.sandbox.models import Chat
from herald.telegram.sandbox.spec import bot_api_spec
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_channel

METHODS = sorted(method.name for method in bot_api_spec().methods.values())
# Favour the methods the sandbox implements, where most of its own logic lives.
IMPLEMENTED = [
    "sendMessage",
    "sendPhoto",
    "sendMediaGroup",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "getChat",
    "getChatMember",
    "getFile",
    "setMyCommands",
    "setWebhook",
    "getUpdates",
]
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


html = st.lists(
    st.sampled_from(
        ["<b>", "</b>", "<i>", "</i>", "<a href='x'>", "</a>", "&lt;", "&", "<", "*", "_", "\\", "`", "a"]
    )
).map("".join)
buttons = st.fixed_dictionaries(
    {"text": st.text(max_size=5)},
    optional={"callback_data": st.text(max_size=70), "url": st.text(max_size=10), "pay": st.booleans()},
)
markups = st.fixed_dictionaries(
    {"inline_keyboard": st.lists(st.lists(buttons | values, max_size=2), max_size=2)}
)
media_items = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["photo", "video", "document", "audio", "sticker"]),
        "media": values | st.just("x"),
    },
    optional={"caption": html, "parse_mode": st.sampled_from(["HTML", "MarkdownV2", "Markdown", "x"])},
)


def field_values(name: str, chats: list[Any]) -> st.SearchStrategy[Any]:
    """Values of every type, and for the fields that steer the sandbox's logic, plausible ones too."""
    plausible: dict[str, st.SearchStrategy[Any]] = {
        "chat_id": st.sampled_from(chats),
        "user_id": st.sampled_from(chats),
        "message_id": st.integers(0, 4),
        "text": html,
        "caption": html,
        "parse_mode": st.sampled_from(["HTML", "MarkdownV2", "Markdown", "html", "x"]),
        "reply_markup": markups,
        "media": st.lists(media_items, max_size=11),
        "photo": st.sampled_from(["https://e.example/p.jpg", "nope", "attach://x"]),
        "url": st.sampled_from(["", "http://127.0.0.1:9/hook", "ftp://x", "https://e.example/h"]),
        "offset": st.integers(-3, 3),
    }
    if name in plausible:  # mostly plausible, sometimes anything
        return st.one_of(plausible[name], plausible[name], plausible[name], values)
    return values


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_request_breaks_the_sandbox(
    client: Client, shop_bot: SandboxBot, ann: int, sandbox_limits_off: None, data: st.DataObject
) -> None:
    # hypothesis runs every example inside this one test's transaction: make the channel once
    existing = Chat.objects.filter(username="deals").first()
    channel = existing.id if existing else sandbox_channel("Deals", admins=["shop_bot"], username="deals")
    client.post(f"/sandbox/bot{shop_bot.token}/sendMessage", {"chat_id": ann, "text": "a"})
    chats = [ann, channel, "@deals", 1, -1001, "@nobody", shop_bot.id]
    name = data.draw(st.sampled_from(IMPLEMENTED) | st.sampled_from(METHODS), label="method")
    method = bot_api_spec().method(name)
    assert method is not None
    params = {
        field.name: data.draw(field_values(field.name, chats), label=field.name)
        for field in method.fields
        # required fields usually, optional ones now and then, so calls get past the first check
        if data.draw(st.integers(0, 9)) < (8 if field.required else 2)
    }
    url = f"/sandbox/bot{shop_bot.token}/{name}"
    if data.draw(st.booleans(), label="as_form"):
        form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items() if v is not None}
        response = client.post(url, form)
    else:
        response = client.post(url, params, content_type="application/json")
    body = response.json()
    assert response.status_code in (200, 400, 403, 409), body
    assert body["ok"] is (response.status_code == 200)
    if not body["ok"]:
        assert body["error_code"] == response.status_code
        assert body["description"].split(":")[0] in ("Bad Request", "Forbidden", "Conflict")


@pytest.mark.django_db
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=html,
    parse_mode=st.sampled_from(["HTML", "MarkdownV2", "Markdown", None]),
    markup=st.none() | markups,
)
def test_any_text_and_keyboard_is_sent_or_refused_cleanly(
    client: Client,
    shop_bot: SandboxBot,
    ann: int,
    sandbox_limits_off: None,
    text: str,
    parse_mode: str | None,
    markup: dict | None,
) -> None:
    params: dict[str, Any] = {"chat_id": ann, "text": text}
    if parse_mode:
        params["parse_mode"] = parse_mode
    if markup is not None:
        params["reply_markup"] = markup
    response = client.post(
        f"/sandbox/bot{shop_bot.token}/sendMessage", params, content_type="application/json"
    )
    body = response.json()
    assert response.status_code in (200, 400), body
    if response.status_code == 200:
        sent = body["result"]
        assert sent["chat"]["id"] == ann and sent["text"].strip()
        for entity in sent.get("entities", []):
            assert (
                entity["offset"] >= 0
                and entity["offset"] + entity["length"] <= len(sent["text"].encode("utf-16-le")) // 2
            )
