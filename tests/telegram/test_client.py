"""The synchronous facade over PTB: one loop thread and one pool per process, bots cached, fork-safe."""

from __future__ import annotations

import json
import os
import threading
import time

import httpx
import pytest

from herald.telegram import client
from herald.telegram.errors import TelegramSlotMissed
from tests.telegram.sandbox.helpers import SandboxBot

pytestmark = pytest.mark.usefixtures("gateway")


def _gateway_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "telegram-gateway"]


def test_calls_share_one_loop_thread_and_one_bot_per_token(shop_bot: SandboxBot) -> None:
    for _ in range(5):
        client.call(shop_bot.token, "getMe")
    assert len(_gateway_threads()) == 1
    assert client.bot_for(shop_bot.token) is client.bot_for(shop_bot.token)


def test_calls_from_many_threads_at_once(shop_bot: SandboxBot) -> None:
    results: list[str] = []

    def work() -> None:
        results.append(client.call(shop_bot.token, "getMe")["username"])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [shop_bot.username] * 8


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_working_gateway(shop_bot: SandboxBot) -> None:
    client.call(shop_bot.token, "getMe")  # the parent's gateway exists before the fork, as in Celery prefork
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no database, only the gateway
        try:
            me = client.call(shop_bot.token, "getMe")
            payload = {"username": me["username"], "threads": len(_gateway_threads())}
        except BaseException as exc:
            payload = {"error": repr(exc)}
        os.write(write_end, json.dumps(payload).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        answer = json.loads(reader.read())
    os.waitpid(pid, 0)
    assert answer == {"username": shop_bot.username, "threads": 1}
    assert client.call(shop_bot.token, "getMe")["username"] == shop_bot.username  # the parent still works


def test_after_a_429_the_bot_waits_it_out_instead_of_sending_into_it(
    shop_bot: SandboxBot, ann: int, gateway: str
) -> None:
    import httpx

    from herald.telegram.errors import TelegramHeldBack, TelegramRetryAfter

    outcomes = []
    for n in range(6):  # one chat, back to back: over its limit after the sandbox's burst of 3
        try:
            client.call(shop_bot.token, "sendMessage", chat_id=ann, text=f"update {n}")
            outcomes.append("sent")
        except TelegramHeldBack:
            outcomes.append("held")
        except TelegramRetryAfter:
            outcomes.append("429")
    assert outcomes == ["sent", "sent", "sent", "429", "held", "held"]
    calls = httpx.get(f"{gateway}/sandbox/api/calls", params={"bot": shop_bot.username}).json()
    # Telegram saw one send over the limit, not three
    assert [call["status"] for call in calls if call["method"] == "sendMessage"] == [200, 200, 200, 429]
    # what does not count against the limits still goes
    assert client.call(shop_bot.token, "getMe")["username"] == shop_bot.username


def test_a_call_the_process_comes_to_after_its_slot_is_not_made(shop_bot: SandboxBot, gateway: str) -> None:
    now = time.time()
    on_time, late = client.call_many(
        [
            client.Call(shop_bot.token, "getMe", {}, at=now, not_after=now + 60),
            client.Call(shop_bot.token, "getMe", {}, at=now - 1.0, not_after=now - 0.5),
        ]
    )
    assert isinstance(on_time, dict) and on_time["username"] == shop_bot.username
    assert isinstance(late, TelegramSlotMissed) and late.seconds == 0
    calls = httpx.get(f"{gateway}/sandbox/api/calls", params={"bot": shop_bot.username}).json()
    assert [call["method"] for call in calls].count("getMe") == 1  # Telegram never saw the late one
