"""Bulk enqueue (fan-out) and drains: many rows sent concurrently per batch, once each, in order per chat."""

from __future__ import annotations

import threading

import httpx
import pytest
from django.db import connection, transaction
from pytest_django.fixtures import Settings as SettingsWrapper

from herald.core.crypto import token_fingerprint
from herald.telegram import client
from herald.telegram.models import OutboundMessage
from herald.telegram.services import outbox_drain, outbox_enqueue_many
from herald.telegram.tasks import outbox_drain_task
from tests.telegram.gateway_fixtures import OutboxEvents, drain_outbox
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_messages, sandbox_user

pytestmark = pytest.mark.usefixtures("gateway", "eager_tasks")
Status = OutboundMessage.Status


def _statuses(gateway: str, bot: SandboxBot) -> list[int]:
    calls = httpx.get(f"{gateway}/sandbox/api/calls", params={"bot": bot.username}).json()
    return [call["status"] for call in calls if call["method"] == "sendMessage"]


def test_a_fan_out_reaches_every_chat_once(
    shop_bot: SandboxBot, gateway: str, outbox_events: OutboxEvents
) -> None:
    users = [sandbox_user(f"Reader {i}") for i in range(30)]
    queued = outbox_enqueue_many(
        token=shop_bot.token,
        method="sendMessage",
        messages=[(user, {"text": f"<b>Deal</b> for {user}", "parse_mode": "HTML"}) for user in users],
        reference="campaign-1",
    )
    assert queued == 30
    # The test server may drop a connection under a concurrent burst: those rows back off and go again.
    drain_outbox()
    rows = list(OutboundMessage.objects.all())
    assert {row.status for row in rows} == {Status.SENT}
    assert all(row.telegram_message_id is not None for row in rows)
    assert _statuses(gateway, shop_bot) == [200] * 30
    for user in users:
        assert [m["text"] for m in sandbox_messages(user, shop_bot)] == [f"Deal for {user}"]
    assert len(outbox_events.sent) == 30
    outbox_drain_task.apply(args=(token_fingerprint(shop_bot.token),))  # safe to run again
    assert _statuses(gateway, shop_bot) == [200] * 30


def test_several_messages_per_chat_keep_their_order_across_concurrent_drains(
    shop_bot: SandboxBot, sandbox_limits_off: None, eager_tasks: None
) -> None:
    from config.celery import app

    users = [sandbox_user(f"Reader {i}") for i in range(6)]
    app.conf.task_always_eager = False  # queue the rows without sending; the drains below send them
    try:
        with transaction.atomic():
            for step in range(4):
                OutboundMessage.objects.bulk_create(
                    OutboundMessage(
                        bot_fingerprint=token_fingerprint(shop_bot.token),
                        bot_token=shop_bot.token,
                        chat_id=str(user),
                        method="sendMessage",
                        params={"text": f"part {step}"},
                    )
                    for user in users
                )
    finally:
        app.conf.task_always_eager = True

    def drain() -> None:
        try:
            outbox_drain(bot_fingerprint=token_fingerprint(shop_bot.token))
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain_outbox()
    for user in users:
        assert [m["text"] for m in sandbox_messages(user, shop_bot)] == [f"part {i}" for i in range(4)]


def test_a_blocked_user_in_a_fan_out_fails_alone(
    shop_bot: SandboxBot, gateway: str, outbox_events: OutboxEvents
) -> None:
    users = [sandbox_user(f"Reader {i}") for i in range(3)]
    httpx.post(
        f"{gateway}/sandbox/api/members",
        json={"bot": shop_bot.username, "user": users[1], "status": "kicked"},
    )
    outbox_enqueue_many(
        token=shop_bot.token, method="sendMessage", messages=[(u, {"text": "news"}) for u in users]
    )
    by_chat = {row.chat_id: row for row in OutboundMessage.objects.all()}
    assert by_chat[str(users[1])].status == Status.FAILED
    assert by_chat[str(users[1])].last_error == "Forbidden: bot was blocked by the user"
    assert {by_chat[str(users[0])].status, by_chat[str(users[2])].status} == {Status.SENT}
    assert [(m.chat_id, permanent) for m, permanent in outbox_events.failed] == [(str(users[1]), True)]


def test_a_paced_fan_out_gets_no_429(shop_bot: SandboxBot, gateway: str, settings: SettingsWrapper) -> None:
    settings.TELEGRAM_PACING = True
    # The sandbox serves from this test's own process, so its clock sees bursts of jitter (~100 ms) that a
    # real server does not: pace with more room than the default for this test.
    settings.TELEGRAM_PACING_HEADROOM = 0.8
    users = [sandbox_user(f"Reader {i}") for i in range(45)]
    client.call(shop_bot.token, "getMe")  # a warm server and connection, as in steady traffic
    outbox_enqueue_many(
        token=shop_bot.token, method="sendMessage", messages=[(u, {"text": "paced"}) for u in users]
    )
    drain_outbox()
    assert _statuses(gateway, shop_bot) == [200] * 45
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {Status.SENT}


def test_a_starting_worker_sends_rows_whose_wake_ups_died_with_the_last_one(
    shop_bot: SandboxBot, sandbox_limits_off: None
) -> None:
    from config.celery import app
    from herald.telegram.services import outbox_wake_due

    users = [sandbox_user(f"Reader {i}") for i in range(3)]
    app.conf.task_always_eager = False  # queued, but the wake-ups are lost (as with a killed worker)
    try:
        with transaction.atomic():
            outbox_enqueue_many(
                token=shop_bot.token,
                method="sendMessage",
                messages=[(u, {"text": "still here"}) for u in users],
            )
    finally:
        app.conf.task_always_eager = True
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {Status.PENDING}
    assert outbox_wake_due() == 1  # one bot, one drain: eager here, as a fresh worker would run it
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {Status.SENT}
    for user in users:
        assert [m["text"] for m in sandbox_messages(user, shop_bot)] == ["still here"]


def test_a_drain_woken_while_the_bots_drains_are_all_at_work_leaves_the_rows_to_them(
    shop_bot: SandboxBot, settings: SettingsWrapper
) -> None:
    from herald.core.leases import lease_give_back, lease_take

    settings.TELEGRAM_PACING = True
    users = [sandbox_user(f"Reader {i}") for i in range(3)]
    fingerprint = token_fingerprint(shop_bot.token)
    # two drains of this bot are at work elsewhere (the places the outbox's drains take)
    at_work = [lease_take(f"outbox-drain:{fingerprint}", places=2, seconds=30) for _ in range(2)]
    assert all(at_work)
    outbox_enqueue_many(
        token=shop_bot.token, method="sendMessage", messages=[(u, {"text": "hi"}) for u in users]
    )
    # the wake-ups ended at once, without holding a worker's thread for slots further ahead
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {Status.PENDING}
    for held in at_work:
        assert held is not None
        lease_give_back(held)
    assert outbox_drain(bot_fingerprint=fingerprint) == 3
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {Status.SENT}
