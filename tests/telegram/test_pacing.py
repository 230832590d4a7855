"""Pacing books slots on shared buckets so a bot stays within Telegram's limits (booked times are measured;
nothing sleeps), and, end to end, a paced burst gets no 429 from the sandbox."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from django.db import connection
from pytest_django.fixtures import Settings as SettingsWrapper

from herald.telegram import client, pacing
from herald.telegram.models import OutboundMessage
from herald.telegram.services import outbox_send
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_messages, sandbox_user


def _booked(reserve: Callable[[], float]) -> tuple[float, float]:
    """When a reservation's slot is, bracketed by the clock before and after the call (the limiter reads
    its own clock somewhere in between)."""
    before = time.time()
    wait = reserve()
    return before + wait, time.time() + wait


def _assert_spaced(slots: list[tuple[float, float]], interval: float) -> None:
    """Consecutive slots are one interval apart, as far as the brackets can tell."""
    for (low_a, high_a), (low_b, high_b) in itertools.pairwise(slots):
        assert low_b - high_a <= interval + 1e-6
        assert high_b - low_a >= interval - 1e-6


@pytest.fixture
def paced(settings: SettingsWrapper, db: None) -> str:
    settings.TELEGRAM_PACING = True
    settings.RATE_LIMIT_BACKEND = "database"
    return uuid.uuid4().hex  # a fresh bot fingerprint: its own buckets


def test_a_burst_of_60_sends_from_one_bot_is_booked_within_30_per_second(paced: str) -> None:
    slots = []
    for chat in range(60):
        assert pacing.reserve_chat(bot_fingerprint=paced, chat_id=1000 + chat) == 0.0  # a fresh chat each
        slots.append(_booked(lambda: pacing.reserve_bot(bot_fingerprint=paced)))
    interval = 1 / pacing.bot_rate_per_second()
    assert interval > 1 / 30  # so no second holds more than 30 sends
    _assert_spaced(slots, interval)


@pytest.mark.parametrize(("chat_id", "limit"), [(12345, 1.0), (-100123, 20 / 60), ("@deals", 20 / 60)])
def test_one_chat_is_paced_by_its_type(
    paced: str, chat_id: int | str, limit: float, settings: SettingsWrapper
) -> None:
    headroom = settings.TELEGRAM_PACING_HEADROOM if limit == 1.0 else settings.TELEGRAM_GROUP_PACING_HEADROOM
    assert headroom < 1  # so no window holds more than Telegram allows
    per_second = limit * headroom
    assert pacing.chat_rate_per_second(chat_id) == pytest.approx(per_second)
    slots = [_booked(lambda: pacing.reserve_chat(bot_fingerprint=paced, chat_id=chat_id)) for _ in range(3)]
    assert slots[0][0] <= time.time()  # the first send may go at once
    _assert_spaced(slots, 1 / per_second)


def test_a_waiting_chat_does_not_hold_back_the_bots_other_chats(paced: str) -> None:
    pacing.reserve_chat(bot_fingerprint=paced, chat_id=7)
    pacing.reserve_bot(bot_fingerprint=paced)
    assert pacing.reserve_chat(bot_fingerprint=paced, chat_id=7) > 0.5
    # chat 7 must wait about a second, but the bot's next slot is one bot interval away
    assert pacing.reserve_chat(bot_fingerprint=paced, chat_id=8) == 0.0
    assert pacing.reserve_bot(bot_fingerprint=paced) == pytest.approx(
        1 / pacing.bot_rate_per_second(), abs=0.02
    )


def test_pacing_off_books_nothing(paced: str, settings: SettingsWrapper) -> None:
    settings.TELEGRAM_PACING = False
    assert [pacing.reserve_chat(bot_fingerprint=paced, chat_id=7) for _ in range(5)] == [0.0] * 5
    assert [pacing.reserve_bot(bot_fingerprint=paced) for _ in range(5)] == [0.0] * 5


@pytest.mark.usefixtures("gateway", "eager_tasks")
def test_a_paced_burst_from_several_workers_gets_no_429(
    shop_bot: SandboxBot, settings: SettingsWrapper, gateway: str
) -> None:
    settings.TELEGRAM_PACING = True
    settings.TELEGRAM_PACING_HEADROOM = 0.8  # room for the jitter of a server running in the test's process
    users = [sandbox_user(f"User {i}") for i in range(40)]
    rows = [
        OutboundMessage.objects.create(
            bot_fingerprint=uuid.uuid4().hex[:8] + "-burst",
            bot_token=shop_bot.token,
            chat_id=str(user),
            method="sendMessage",
            params={"text": f"deal for {user}"},
        )
        for user in users
    ]
    fingerprint = "burst-" + uuid.uuid4().hex
    OutboundMessage.objects.update(bot_fingerprint=fingerprint)
    client.call(shop_bot.token, "getMe")  # a warm server and connection, as in steady traffic
    started = time.monotonic()

    def worker(share: list[OutboundMessage]) -> None:
        try:
            for row in share:
                outbox_send(message_id=row.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(rows[i::5],)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    calls = httpx.get(f"{gateway}/sandbox/api/calls", params={"bot": shop_bot.username}).json()
    statuses = [call["status"] for call in calls if call["method"] == "sendMessage"]
    assert statuses == [200] * 40
    assert all(sandbox_messages(user, shop_bot)[0]["text"] == f"deal for {user}" for user in users)
    assert elapsed >= 39 / pacing.bot_rate_per_second() - 0.1  # the slots were waited for


@pytest.mark.usefixtures("gateway")
def test_send_now_waits_out_a_429_and_tries_again(
    shop_bot: SandboxBot, ann: int, settings: SettingsWrapper, gateway: str
) -> None:
    settings.SANDBOX_PRIVATE_CHAT_BURST = 1  # a second message within a second gets 429
    fingerprint = uuid.uuid4().hex
    first = pacing.send_now(
        shop_bot.token, "sendMessage", bot_fingerprint=fingerprint, chat_id=ann, text="one"
    )
    second = pacing.send_now(
        shop_bot.token, "sendMessage", bot_fingerprint=fingerprint, chat_id=ann, text="two"
    )
    assert second["message_id"] == first["message_id"] + 1
    calls = httpx.get(f"{gateway}/sandbox/api/calls", params={"bot": shop_bot.username}).json()
    assert [call["status"] for call in calls] == [200, 429, 200]
