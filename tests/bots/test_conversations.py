"""A person talks to a hosted bot in the sandbox: Telegram delivers to the webhook, the flow answers."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest

from herald.bots.models import BotMessage, BotUser, FlowRun, InboundUpdate, TelegramBot
from herald.bots.wakeups import publish_pending
from herald.telegram.sandbox import services as sandbox
from tests.bots.conftest import Api
from tests.telegram.gateway_fixtures import drain_outbox
from tests.telegram.sandbox.helpers import (
    SandboxBot,
    deliver_pending_updates,
    sandbox_messages,
    sandbox_press,
    sandbox_send,
    sandbox_user,
)

pytestmark = pytest.mark.django_db(transaction=True)

MENU = {
    "type": "menu",
    "text": "Hi {first_name}! Choose",
    "buttons": [{"text": "Hours", "response": "10:00-20:00"}, {"text": "Site", "url": "https://example.com"}],
}
FORM = {
    "initial_step": "ask_name",
    "steps": [
        {"id": "ask_name", "type": "question", "text": "Your name?", "save_as": "name", "next": "ask_age"},
        {
            "id": "ask_age",
            "type": "question",
            "text": "Your age?",
            "save_as": "age",
            "validate": "number",
            "next": "done",
        },
        {"id": "done", "type": "message", "text": "Thanks {name}!"},
    ],
}


def hosted(api: Api, bot: SandboxBot, *flows: dict[str, Any]) -> str:
    bot_id: str = api.post("/api/bots", {"name": bot.username, "token": bot.token}).json()["id"]
    assert api.post(f"/api/bots/{bot_id}/webhook").status_code == 200
    for flow in flows:
        assert api.post(f"/api/bots/{bot_id}/flows", flow).status_code == 201
    return bot_id


def write(bot: SandboxBot, user: int, text: str) -> None:
    """The user writes; Telegram delivers the update; the replies Telegram asked to retry go out too."""
    sandbox_send(bot, user, text)
    deliver_pending_updates(ignore_backoff=True)
    drain_outbox()


def bot_texts(user: int, bot: SandboxBot) -> list[str]:
    return [m["text"] for m in sandbox_messages(user, bot) if m["from_bot"]]


def test_menu_flow_answers_buttons_in_the_chat(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    hosted(api, shop_bot, {"name": "menu", "flow_data": MENU, "is_default": True})
    write(shop_bot, ann, "hello")
    messages = sandbox_messages(ann, shop_bot)
    menu = messages[-1]
    assert menu["text"] == "Hi Ann! Choose"
    keyboard = menu["reply_markup"]["inline_keyboard"]
    assert keyboard[1][0]["url"] == "https://example.com"
    sandbox_press(shop_bot, ann, menu["message_id"], keyboard[0][0]["callback_data"])
    deliver_pending_updates(ignore_backoff=True)
    drain_outbox()
    assert bot_texts(ann, shop_bot)[-1] == "10:00-20:00"
    answered = [
        c
        for c in sandbox.sandbox_calls(bot=sandbox.sandbox_bot_get(bot="shop_bot"))
        if c["method"] == "answerCallbackQuery"
    ]
    assert len(answered) == 1 and answered[0]["status"] == 200


def test_multi_step_form_collects_answers_and_counts_a_completion(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    bot_id = hosted(api, shop_bot, {"name": "signup", "flow_data": FORM, "trigger_command": "start"})
    write(shop_bot, ann, "/start")
    write(shop_bot, ann, "Ann Petrosyan")
    write(shop_bot, ann, "many")
    write(shop_bot, ann, "31")
    assert bot_texts(ann, shop_bot) == [
        "Your name?",
        "Your age?",
        "Please send a number, for example 42.",
        "Your age?",
        "Thanks Ann Petrosyan!",
    ]
    flow_id = api.get(f"/api/bots/{bot_id}/flows").json()[0]["id"]
    responses = api.get(f"/api/bots/{bot_id}/flows/{flow_id}/responses").json()
    assert [(r["answers"], r["completed"]) for r in responses] == [
        ({"name": "Ann Petrosyan", "age": 31}, True)
    ]
    csv = api.get(f"/api/bots/{bot_id}/flows/{flow_id}/responses", format="csv")
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0].endswith("name,age") and lines[1].endswith("Ann Petrosyan,31")
    stats = api.get(f"/api/bots/{bot_id}/stats").json()
    assert stats["users"] == 1 and stats["request_count"] == 4
    assert stats["flows"] == [{"flow_id": flow_id, "name": "signup", "runs": 1, "completions": 1}]
    assert sum(day["incoming"] for day in stats["messages_per_day"]) == 4
    assert sum(day["outgoing"] for day in stats["messages_per_day"]) == 5


def test_cancel_and_unknown_commands_fall_back_to_the_default_flow(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    hosted(
        api,
        shop_bot,
        {"name": "signup", "flow_data": FORM, "trigger_command": "start"},
        {"name": "fallback", "flow_data": {"response": "Send /start to sign up."}, "is_default": True},
    )
    write(shop_bot, ann, "/start")
    write(shop_bot, ann, "/cancel")
    write(shop_bot, ann, "/unknown")
    assert bot_texts(ann, shop_bot) == ["Your name?", "Cancelled.", "Send /start to sign up."]
    assert FlowRun.objects.get(flow__name="signup").completed is False


def _post_update(url: str, secret: str | None, update: dict[str, Any]) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return httpx.post(
        url, content=json.dumps(update), headers={**headers, "Content-Type": "application/json"}
    )


def private_update(update_id: int, user: int, text: str, *, kind: str = "message") -> dict[str, Any]:
    """An update as Telegram sends it when ``user`` writes ``text`` to the bot in their private chat."""
    sender = {"id": user, "is_bot": False, "first_name": "Ann"}
    message = {
        "message_id": update_id,
        "date": 0,
        "chat": {"id": user, "type": "private"},
        "from": sender,
        "text": text,
    }
    return {"update_id": update_id, kind: message}


def test_webhook_refuses_missing_or_wrong_secret_and_unknown_bots(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    bot_id = hosted(api, shop_bot, {"name": "menu", "flow_data": MENU, "is_default": True})
    url = f"{telegram}/api/webhook/{bot_id}"
    update = private_update(1, ann, "hi")
    assert _post_update(url, None, update).status_code == 401
    assert _post_update(url, "wrong", update).status_code == 403
    assert (
        _post_update(f"{telegram}/api/webhook/00000000-0000-0000-0000-000000000000", "x", update).status_code
        == 404
    )
    TelegramBot.objects.filter(pk=bot_id).update(is_active=False)
    from herald.bots.ingest import forget_bot_key

    forget_bot_key(TelegramBot.objects.get(pk=bot_id).pk)
    secret = sandbox.sandbox_bot_get(bot="shop_bot").webhook_secret_token
    assert _post_update(url, secret, update).status_code == 404
    assert InboundUpdate.objects.count() == 0


def test_the_same_update_three_times_at_once_has_one_effect(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    bot_id = hosted(api, shop_bot, {"name": "hello", "flow_data": {"response": "Hello!"}, "is_default": True})
    secret = sandbox.sandbox_bot_get(bot="shop_bot").webhook_secret_token
    update = private_update(77, ann, "hi")
    results: list[int] = []

    def post() -> None:
        results.append(_post_update(f"{telegram}/api/webhook/{bot_id}", secret, update).status_code)

    threads = [threading.Thread(target=post) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200, 200, 200]
    assert BotMessage.objects.filter(direction="incoming").count() == 1
    assert bot_texts(ann, shop_bot) == ["Hello!"]
    bot = TelegramBot.objects.get(pk=bot_id)
    assert (bot.request_count, bot.user_count) == (1, 1)


def test_updates_a_flows_bot_does_not_handle_are_acknowledged(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    bot_id = hosted(api, shop_bot, {"name": "hello", "flow_data": {"response": "Hello!"}, "is_default": True})
    secret = sandbox.sandbox_bot_get(bot="shop_bot").webhook_secret_token
    edited = private_update(9, ann, "hi!", kind="edited_message")
    assert _post_update(f"{telegram}/api/webhook/{bot_id}", secret, edited).status_code == 200
    assert _post_update(f"{telegram}/api/webhook/{bot_id}", secret, {"update_id": "x"}).status_code == 400
    assert bot_texts(ann, shop_bot) == []


def test_broadcast_meets_a_user_who_blocked_the_bot(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    bot_id = hosted(api, shop_bot, {"name": "hello", "flow_data": {"response": "Hello!"}, "is_default": True})
    bob = sandbox_user("Bob", username="bob")
    write(shop_bot, ann, "hi")
    write(shop_bot, bob, "hi")
    sandbox.sandbox_member_set(
        bot=sandbox.sandbox_bot_get(bot="shop_bot"),
        user=sandbox.sandbox_user_get(user_id=bob),
        status="kicked",
    )
    # Bob blocks the bot; his my_chat_member update is not delivered yet: the broadcast learns from a 403
    broadcast = api.post(f"/api/bots/{bot_id}/broadcasts", {"text": "Sale today!"})
    assert broadcast.status_code == 201, broadcast.content
    drain_outbox()
    progress = api.get(f"/api/bots/{bot_id}/broadcasts/{broadcast.json()['id']}").json()
    assert progress["recipients"] in (1, 2)
    assert bot_texts(ann, shop_bot)[-1] == "Sale today!"
    assert "Sale today!" not in bot_texts(bob, shop_bot)
    assert BotUser.objects.get(chat_id=bob).is_blocked is True
    again = api.post(f"/api/bots/{bot_id}/broadcasts", {"text": "Second sale"}).json()
    assert again["recipients"] == 1


def test_blocking_and_unblocking_the_bot_is_recorded_from_my_chat_member(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    bot_id = hosted(api, shop_bot, {"name": "hello", "flow_data": {"response": "Hello!"}, "is_default": True})
    write(shop_bot, ann, "hi")
    bot_row, ann_row = sandbox.sandbox_bot_get(bot="shop_bot"), sandbox.sandbox_user_get(user_id=ann)
    sandbox.sandbox_member_set(bot=bot_row, user=ann_row, status="kicked")
    deliver_pending_updates(ignore_backoff=True)
    assert BotUser.objects.get(chat_id=ann).is_blocked is True
    assert api.get(f"/api/bots/{bot_id}/stats").json()["blocked_users"] == 1
    sandbox.sandbox_member_set(bot=bot_row, user=ann_row, status="member")
    deliver_pending_updates(ignore_backoff=True)
    assert BotUser.objects.get(chat_id=ann).is_blocked is False


def test_handoff_relays_to_the_operator_group_and_the_reply_back(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int, settings: Any, sandbox_limits_off: None
) -> None:
    settings.TELEGRAM_LIMIT_PER_GROUP = 50.0  # not a pacing test: no 3-second gaps between group messages
    operators = sandbox.sandbox_chat_create(chat_type="supergroup", title="Operators", admins=["shop_bot"]).id
    flow = {"steps": [{"id": "human", "type": "handoff", "operator_chat_id": operators}]}
    bot_id = hosted(api, shop_bot, {"name": "support", "flow_data": flow, "is_default": True})
    write(shop_bot, ann, "hello")
    write(shop_bot, ann, "my parcel is late")
    relayed = [m for m in sandbox_messages(operators, shop_bot) if m["from_bot"]]
    assert relayed[0]["text"].startswith(f"#u{ann} Ann @ann started a conversation")
    assert relayed[1]["text"].endswith("my parcel is late")
    # an operator answers by replying to the relayed message in the group
    secret = sandbox.sandbox_bot_get(bot="shop_bot").webhook_secret_token
    operator = {"id": 555, "is_bot": False, "first_name": "Olga"}
    reply = {
        "update_id": 10_000,
        "message": {
            "message_id": 99,
            "date": 0,
            "chat": {"id": operators, "type": "supergroup", "title": "Operators"},
            "from": operator,
            "text": "It arrives tomorrow.",
            "reply_to_message": {
                "message_id": relayed[1]["message_id"],
                "date": 0,
                "chat": {"id": operators, "type": "supergroup"},
                "text": relayed[1]["text"],
            },
        },
    }
    assert _post_update(f"{telegram}/api/webhook/{bot_id}", secret, reply).status_code == 200
    assert bot_texts(ann, shop_bot)[-1] == "It arrives tomorrow."
    write(shop_bot, ann, "/cancel")
    assert bot_texts(ann, shop_bot)[-1] == "The conversation with our team has ended."


STOCK_FLOW = {
    "steps": [
        {"id": "size", "type": "question", "text": "Size?", "save_as": "size", "next": "stock"},
        {
            "id": "stock",
            "type": "http",
            "url": "http://127.0.0.1:{port}/stock?size={size}",
            "save_as": "stock",
            "next": "ok",
            "on_error": "sorry",
        },
        {"id": "ok", "type": "message", "text": "{stock.left} left in size {size}"},
        {"id": "sorry", "type": "message", "text": "Stock check failed: {stock.error}"},
    ]
}


@pytest.fixture
def stock_server() -> Any:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"left": 3, "path": self.path}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def _stock_flow(port: int) -> dict[str, Any]:
    return json.loads(json.dumps(STOCK_FLOW).replace("{port}", str(port)))


def test_http_step_stores_the_reply_of_a_reachable_service(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int, stock_server: int, settings: Any
) -> None:
    settings.HERALD_HTTP_ALLOW_PRIVATE = True  # the test's service listens on loopback
    hosted(api, shop_bot, {"name": "stock", "flow_data": _stock_flow(stock_server), "is_default": True})
    write(shop_bot, ann, "hi")
    write(shop_bot, ann, "M")
    assert bot_texts(ann, shop_bot)[-1] == "3 left in size M"


def test_http_step_to_an_internal_address_is_refused_and_follows_on_error(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int, stock_server: int
) -> None:
    hosted(api, shop_bot, {"name": "stock", "flow_data": _stock_flow(stock_server), "is_default": True})
    write(shop_bot, ann, "hi")
    write(shop_bot, ann, "M")
    assert bot_texts(ann, shop_bot)[-1].startswith(
        "Stock check failed: UnsafeAddress: 127.0.0.1 resolves to a non-public"
    )


def test_an_update_whose_task_was_lost_is_processed_by_the_sweeper(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    from config.celery import app as celery_app
    from herald.bots.processing import updates_sweep

    hosted(api, shop_bot, {"name": "hello", "flow_data": {"response": "Hello!"}, "is_default": True})
    celery_app.conf.task_always_eager = False  # the broker "loses" the wake-up: no worker consumes it
    try:
        write(shop_bot, ann, "hi")
    finally:
        # the webhook's wake-ups go to the broker (no worker), not run eagerly by its publisher thread later
        publish_pending()
        celery_app.conf.task_always_eager = True
    assert bot_texts(ann, shop_bot) == []
    assert updates_sweep(older_than_seconds=3600) == 0  # not stuck for long enough yet
    assert updates_sweep(older_than_seconds=0) == 1
    assert bot_texts(ann, shop_bot) == ["Hello!"]
    assert updates_sweep(older_than_seconds=0) == 0  # and only once


def test_a_chats_updates_are_processed_in_order_whatever_order_the_wake_up_lists_them(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    from config.celery import app as celery_app
    from herald.bots.models import FlowAnswer
    from herald.bots.processing import updates_process

    hosted(api, shop_bot, {"name": "form", "flow_data": FORM, "is_default": True})
    celery_app.conf.task_always_eager = False  # the updates are taken; no worker runs yet
    try:
        for text in ("hi", "Ann", "30"):
            write(shop_bot, ann, text)
    finally:
        # the webhook's wake-ups go to the broker (no worker), not run eagerly by its publisher thread later
        publish_pending()
        celery_app.conf.task_always_eager = True
    hi, name, age = InboundUpdate.objects.order_by("update_id").values_list("pk", flat=True)
    updates_process(update_pks=[age, hi, name])  # the last one first: the chat's older ones go before it
    updates_process(update_pks=[hi, name, age])  # a wake-up that comes again changes nothing
    drain_outbox()
    assert bot_texts(ann, shop_bot) == ["Your name?", "Your age?", "Thanks Ann!"]
    assert dict(FlowAnswer.objects.values_list("key", "value")) == {"name": "Ann", "age": 30}


def test_a_conversation_another_worker_moved_on_meanwhile_is_read_again_before_anything_is_written(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker read the chat's conversation (waiting for the name) and decides what "30" means; meanwhile
    another worker processes the name, which reached Herald late. The first worker's write finds the
    conversation moved on, writes nothing, and decides again: "30" is the age."""
    from config.celery import app as celery_app
    from herald.bots import processing
    from herald.bots.models import FlowAnswer, UpdateStatus

    hosted(api, shop_bot, {"name": "form", "flow_data": FORM, "is_default": True})
    write(shop_bot, ann, "hi")
    celery_app.conf.task_always_eager = False  # the updates are taken; no worker runs yet
    try:
        write(shop_bot, ann, "Ann")
        write(shop_bot, ann, "30")
    finally:
        # the webhook's wake-ups go to the broker (no worker), not run eagerly by its publisher thread later
        publish_pending()
        celery_app.conf.task_always_eager = True
    name, age = InboundUpdate.objects.filter(status=UpdateStatus.RECEIVED).order_by("update_id")
    # the name is not there yet when the first worker looks
    InboundUpdate.objects.filter(pk=name.pk).update(status=UpdateStatus.IGNORED)
    decide = processing._decide
    raced: list[bool] = []

    def decide_while_another_worker_writes(*args: Any, **kwargs: Any) -> Any:
        if not raced:
            raced.append(True)
            InboundUpdate.objects.filter(pk=name.pk).update(status=UpdateStatus.RECEIVED)
            processing.updates_process(update_pks=[name.pk])  # the other worker
        return decide(*args, **kwargs)

    monkeypatch.setattr(processing, "_decide", decide_while_another_worker_writes)
    processing.updates_process(update_pks=[age.pk])
    drain_outbox()
    assert bot_texts(ann, shop_bot) == ["Your name?", "Your age?", "Thanks Ann!"]
    assert dict(FlowAnswer.objects.values_list("key", "value")) == {"name": "Ann", "age": 30}
    assert BotMessage.objects.filter(direction="outgoing").count() == 3
