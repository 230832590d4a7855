"""The webhook's fast path: it answers as the documented API operation does, counts right under concurrency,
and wakes the worker with few broker messages."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from celery.signals import before_task_publish
from django.conf import settings
from django.test import Client, override_settings

from config.celery import app as celery_app
from herald.bots import wakeups
from herald.bots.ingest import _Update, _write_together
from herald.bots.models import BotMessage, BotUser, InboundUpdate, TelegramBot, UpdateStatus
from herald.bots.processing import updates_sweep
from herald.bots.wakeups import publish_pending
from herald.telegram.sandbox import services as sandbox
from tests.bots.conftest import Api
from tests.bots.test_conversations import hosted, private_update
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_user

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = {"name": "hello", "flow_data": {"response": "Hello!"}, "is_default": True}
FAST_PATH = "herald.bots.middleware.WebhookFastPathMiddleware"


def _post(client: Client, bot_id: str, body: bytes | str, secret: str | None) -> tuple[int, Any]:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    response = client.post(f"/api/webhook/{bot_id}", body, content_type="application/json", headers=headers)
    return response.status_code, response.json()


def _answers(bot_id: str, secret: str, ann: int, first_update_id: int) -> list[tuple[int, Any]]:
    """What Telegram gets back for a new update, the same again, and bad requests of every kind."""
    client = Client()
    update = json.dumps(private_update(first_update_id, ann, "hi"))
    return [
        _post(client, bot_id, update, secret),
        _post(client, bot_id, update, secret),
        _post(client, bot_id, update, None),
        _post(client, bot_id, update, "wrong"),
        _post(client, str(uuid.uuid4()), update, secret),
        _post(client, bot_id, "{not json", secret),
        _post(client, bot_id, '{"update_id": 5, "message": {"x": NaN}}', secret),
        _post(client, bot_id, '{"update_id": "5"}', secret),
    ]


def test_the_fast_path_answers_as_the_api_operation_does(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    bot_id = hosted(api, shop_bot, HELLO)
    secret = sandbox.sandbox_bot_get(bot="shop_bot").webhook_secret_token
    assert FAST_PATH in settings.MIDDLEWARE
    fast = _answers(bot_id, secret, ann, 1)
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != FAST_PATH]):
        routed = _answers(bot_id, secret, ann, 2)
    assert fast == routed
    assert [status for status, _ in fast] == [200, 200, 401, 403, 404, 400, 400, 400]
    assert fast[0][1] == {"ok": True, "duplicate": False}
    assert fast[1][1] == {"ok": True, "duplicate": True}
    assert [body["code"] for _, body in fast[2:]] == [
        "missing_secret",
        "wrong_secret",
        "unknown_bot",
        "invalid_update",
        "invalid_update",
        "invalid_update",
    ]
    assert InboundUpdate.objects.count() == 2
    bot = TelegramBot.objects.get(pk=bot_id)
    assert (bot.request_count, bot.user_count) == (2, 1)


def test_many_users_at_once_are_each_counted_once(
    telegram: str, api: Api, shop_bot: SandboxBot, sandbox_limits_off: None
) -> None:
    bot_id = hosted(api, shop_bot, HELLO)
    secret = sandbox.sandbox_bot_get(bot="shop_bot").webhook_secret_token
    users = [sandbox_user(f"U{n}") for n in range(12)]
    # each user's update is delivered three times, five at a time (the test server's listen backlog)
    updates = [private_update(100 + n, user, "hi") for n, user in enumerate(users)] * 3

    def deliver(update: dict[str, Any]) -> int:
        return httpx.post(
            f"{telegram}/api/webhook/{bot_id}",
            content=json.dumps(update),
            headers={"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"},
            timeout=60,
        ).status_code

    # the wake-ups go to the broker meanwhile (Celery's inline mode is not safe in several threads at once)
    celery_app.conf.task_always_eager = False
    try:
        with ThreadPoolExecutor(max_workers=5) as pool:
            statuses = list(pool.map(deliver, updates))
    finally:
        # the webhook's wake-ups go to the broker (no worker), not run eagerly by its publisher thread later
        publish_pending()
        celery_app.conf.task_always_eager = True
    assert statuses == [200] * len(updates)
    bot = TelegramBot.objects.get(pk=bot_id)
    assert (bot.request_count, bot.user_count) == (12, 12)
    assert BotUser.objects.filter(bot=bot).count() == 12
    assert BotMessage.objects.filter(direction="incoming").count() == 12
    assert updates_sweep(older_than_seconds=0) == 12  # the worker's side, each update once
    assert set(InboundUpdate.objects.values_list("status", flat=True)) == {UpdateStatus.PROCESSED}


def test_an_update_for_a_bot_deleted_meanwhile_is_refused_and_leaves_no_rows(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    bot_id = hosted(api, shop_bot, HELLO)
    secret = sandbox.sandbox_bot_get(bot="shop_bot").webhook_secret_token
    client = Client()
    assert _post(client, bot_id, json.dumps(private_update(1, ann, "hi")), secret)[0] == 200
    # deleted behind the process's back: its secret is still remembered here for a few seconds
    TelegramBot.objects.filter(pk=bot_id).delete()
    status, body = _post(client, bot_id, json.dumps(private_update(2, ann, "hi")), secret)
    assert (status, body["code"]) == (404, "unknown_bot")
    assert InboundUpdate.objects.count() == 0


def test_one_bad_update_in_a_shared_transaction_does_not_sink_the_others(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    bot_id = uuid.UUID(hosted(api, shop_bot, HELLO))
    raw = private_update(7, ann, "hi")

    def update(bot: uuid.UUID) -> _Update:
        return _Update(
            bot_id=bot,
            update_id=7,
            kind="message",
            chat_id=ann,
            sender=raw["message"]["from"],
            inner=raw["message"],
            raw=json.dumps(raw),
            status=UpdateStatus.IGNORED,
        )

    good, orphan = update(bot_id), update(uuid.uuid4())
    _write_together([good, orphan])
    assert good.pk is not None and good.error is None
    assert orphan.pk is None and orphan.error is not None
    assert list(InboundUpdate.objects.values_list("pk", flat=True)) == [good.pk]
    assert TelegramBot.objects.get(pk=bot_id).request_count == 1


def test_updates_taken_together_wake_the_worker_with_one_message() -> None:
    assert celery_app.conf.task_always_eager is False  # the broker, not inline
    published: list[list[int]] = []

    def record(sender: str | None = None, body: Any = None, **_: Any) -> None:
        if sender == "bots.updates_process":
            args, _kwargs, _embed = body
            published.append(list(args[0]))

    pks = [10_001, 10_002, 10_003, 10_004, 10_005]
    before_task_publish.connect(record, weak=False)
    try:
        for pk in pks:
            wakeups.update_received(pk)
        deadline = time.monotonic() + 5
        while sorted(pk for batch in published for pk in batch) != pks and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        before_task_publish.disconnect(record)
    assert sorted(pk for batch in published for pk in batch) == pks
    assert len(published) < len(pks)
