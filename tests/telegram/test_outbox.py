"""The outbox end to end against the sandbox on a live server: enqueue, send, retry, fail, sweep."""

from __future__ import annotations

import datetime as dt
import threading

import httpx
import pytest
from django.db import connection, transaction
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from herald.core.errors import InvalidInput
from herald.core.metrics import TELEGRAM_CALLS
from herald.core.processes import claimant_is_gone, new_claim_tag
from herald.telegram import client
from herald.telegram.models import OutboundMessage
from herald.telegram.services import outbox_enqueue, outbox_retry, outbox_send, outbox_wake_due
from herald.telegram.tasks import outbox_send_task, outbox_sweep_task
from tests.processes import tag_of_an_exited_process
from tests.telegram.gateway_fixtures import OutboxEvents, drain_outbox, tiny_png
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_messages, sandbox_user

pytestmark = pytest.mark.usefixtures("gateway", "eager_tasks")
Status = OutboundMessage.Status


def _texts(chat_id: int, bot: SandboxBot) -> list[str]:
    return [m["text"] for m in sandbox_messages(chat_id, bot)]


def _send_text(bot: SandboxBot, chat_id: int | str, text: str, **extra: object) -> OutboundMessage:
    return outbox_enqueue(
        token=bot.token, chat_id=chat_id, method="sendMessage", params={"text": text, **extra}
    )


def _calls(value: str, method: str = "sendMessage") -> float:
    return TELEGRAM_CALLS.labels(method=method, outcome=value)._value.get()


def test_enqueued_message_is_delivered_and_its_telegram_id_stored(
    shop_bot: SandboxBot, ann: int, outbox_events: OutboxEvents
) -> None:
    ok_before = _calls("ok")
    row = _send_text(shop_bot, ann, "<b>Hello</b> Ann", parse_mode="HTML")
    row.refresh_from_db()
    chat = sandbox_messages(ann, shop_bot)
    assert [m["text"] for m in chat] == ["Hello Ann"]
    assert row.status == Status.SENT and row.attempts == 1
    assert row.telegram_message_id == chat[0]["message_id"]
    assert row.result is not None and row.result["chat"]["id"] == ann
    assert row.sent_at is not None
    assert [m.pk for m in outbox_events.sent] == [row.pk]
    assert _calls("ok") == ok_before + 1


def test_the_token_is_encrypted_at_rest(shop_bot: SandboxBot, ann: int) -> None:
    row = _send_text(shop_bot, ann, "hi")
    with connection.cursor() as cursor:
        cursor.execute("SELECT bot_token FROM telegram_outbound_message WHERE id = %s", [row.pk])
        (stored,) = cursor.fetchone()
    assert shop_bot.token not in stored
    assert OutboundMessage.objects.get(pk=row.pk).bot_token == shop_bot.token


def test_the_same_row_sent_twice_sends_once(shop_bot: SandboxBot, ann: int) -> None:
    row = _send_text(shop_bot, ann, "once")
    outbox_send_task.apply(args=(row.pk,))
    outbox_send_task.apply(args=(row.pk,))
    assert _texts(ann, shop_bot) == ["once"]
    assert OutboundMessage.objects.get(pk=row.pk).attempts == 1


def test_concurrent_wakeups_of_one_row_send_once(shop_bot: SandboxBot, ann: int, eager_tasks: None) -> None:
    with transaction.atomic():
        # committed without running the wake-up: the threads below are the only senders
        row = OutboundMessage.objects.create(
            bot_fingerprint="f" * 64,
            bot_token=shop_bot.token,
            chat_id=str(ann),
            method="sendMessage",
            params={"text": "raced"},
        )
    results: list[object] = []

    def wake() -> None:
        try:
            results.append(outbox_send(message_id=row.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=wake) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _texts(ann, shop_bot) == ["raced"]
    assert sum(result is not None for result in results) == 1


def test_same_dedupe_key_returns_the_first_row(shop_bot: SandboxBot, ann: int) -> None:
    first = _send_text(shop_bot, ann, "order #12 confirmed")
    again = outbox_enqueue(
        token=shop_bot.token, chat_id=ann, method="sendMessage", params={"text": "x"}, dedupe_key="order-12"
    )
    repeat = outbox_enqueue(
        token=shop_bot.token, chat_id=ann, method="sendMessage", params={"text": "y"}, dedupe_key="order-12"
    )
    assert repeat.pk == again.pk != first.pk
    assert _texts(ann, shop_bot) == ["order #12 confirmed", "x"]


def test_a_429_reschedules_the_row_and_nothing_is_lost(
    shop_bot: SandboxBot, ann: int, gateway: str, settings: SettingsWrapper
) -> None:
    retry_after_before = _calls("retry_after")
    settings.SANDBOX_PRIVATE_CHAT_BURST = 1  # the sandbox answers 429 to a second message within a second
    # Pacing is off, so the gateway sends as fast as it can and meets the sandbox's 429s.
    with transaction.atomic():
        rows = [_send_text(shop_bot, ann, f"burst {i}") for i in range(3)]
    drain_outbox()
    assert _texts(ann, shop_bot) == [f"burst {i}" for i in range(3)]
    rows = [OutboundMessage.objects.get(pk=row.pk) for row in rows]
    assert all(row.status == Status.SENT for row in rows)
    retried = [row for row in rows if row.last_error.startswith("Too Many Requests: retry after")]
    assert retried and all(row.attempts == 1 for row in retried)  # waiting is not a failed attempt
    assert _calls("retry_after") > retry_after_before
    calls = httpx.get(f"{gateway}/sandbox/api/calls", params={"bot": shop_bot.username}).json()
    statuses = [call["status"] for call in (calls["calls"] if isinstance(calls, dict) else calls)]
    assert statuses.count(200) == 3 and 429 in statuses


def test_blocked_user_fails_permanently_with_telegrams_words(
    shop_bot: SandboxBot, ann: int, outbox_events: OutboxEvents, gateway: str
) -> None:
    response = httpx.post(
        f"{gateway}/sandbox/api/members", json={"bot": shop_bot.username, "user": ann, "status": "kicked"}
    )
    assert response.status_code == 200
    row = _send_text(shop_bot, ann, "are you there?")
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.attempts == 1
    assert row.error_code == "telegram_forbidden"
    assert row.last_error == "Forbidden: bot was blocked by the user"
    assert [(m.pk, permanent) for m, permanent in outbox_events.failed] == [(row.pk, True)]
    assert outbox_events.failed[0][0].last_error == "Forbidden: bot was blocked by the user"


def test_bad_request_fails_at_once(shop_bot: SandboxBot, outbox_events: OutboxEvents) -> None:
    row = _send_text(shop_bot, 987654321, "nobody here")
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.attempts == 1
    assert row.error_code == "telegram_bad_request"
    assert row.last_error == "Bad Request: chat not found"
    assert outbox_events.failed[0][1] is True


def test_network_errors_back_off_then_fail_after_the_last_attempt(
    shop_bot: SandboxBot, ann: int, settings: SettingsWrapper, outbox_events: OutboxEvents
) -> None:
    settings.TELEGRAM_OUTBOX_MAX_ATTEMPTS = 2
    settings.TELEGRAM_API_BASE = "http://127.0.0.1:9/sandbox/bot"  # the discard port: nothing listens
    row = _send_text(shop_bot, ann, "later")
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 1
    assert row.error_code == "telegram_network_error"
    wait = (row.next_attempt_at - timezone.now()).total_seconds()
    assert 0.5 < wait <= 2.0  # the first backoff: 2 s with jitter
    OutboundMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())  # time passes
    outbox_send_task.apply(args=(row.pk,))
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.attempts == 2
    assert outbox_events.failed == [(outbox_events.failed[0][0], False)]


def test_sweeper_redrives_a_row_stuck_in_sending_and_a_lost_wakeup(
    shop_bot: SandboxBot, ann: int, settings: SettingsWrapper
) -> None:
    bea = sandbox_user("Bea")
    long_ago = timezone.now() - dt.timedelta(seconds=settings.TELEGRAM_OUTBOX_STALE_SECONDS + 5)
    common = {"bot_fingerprint": "f" * 64, "bot_token": shop_bot.token, "method": "sendMessage"}
    stuck = OutboundMessage.objects.create(
        **common,
        chat_id=str(ann),
        params={"text": "stuck"},
        status=Status.SENDING,
        attempts=1,
        claimed_at=long_ago,
    )
    lost = OutboundMessage.objects.create(
        **common, chat_id=str(bea), params={"text": "lost"}, next_attempt_at=long_ago
    )
    fresh = OutboundMessage.objects.create(**common, chat_id=str(bea), params={"text": "queued after"})
    outbox_sweep_task.apply()
    outbox_sweep_task.apply()  # safe to run twice
    assert _texts(ann, shop_bot) == ["stuck"]
    assert _texts(bea, shop_bot) == ["lost", "queued after"]
    stuck.refresh_from_db()
    assert stuck.status == Status.SENT and stuck.attempts == 2
    assert {OutboundMessage.objects.get(pk=r.pk).status for r in (lost, fresh)} == {Status.SENT}


def test_rows_of_a_dead_worker_are_taken_back_at_once_others_wait_for_the_cutoff(
    shop_bot: SandboxBot, ann: int
) -> None:
    bea, cy = sandbox_user("Bea"), sandbox_user("Cy")
    just_now = timezone.now()
    common = {
        "bot_fingerprint": "f" * 64,
        "bot_token": shop_bot.token,
        "method": "sendMessage",
        "status": Status.SENDING,
        "attempts": 1,
        "claimed_at": just_now,
    }
    orphan = OutboundMessage.objects.create(
        **common, chat_id=str(ann), params={"text": "orphan"}, claimed_by=tag_of_an_exited_process()
    )
    alive = OutboundMessage.objects.create(
        **common, chat_id=str(bea), params={"text": "in flight"}, claimed_by=new_claim_tag()
    )
    elsewhere = OutboundMessage.objects.create(
        **common, chat_id=str(cy), params={"text": "other host"}, claimed_by="0123abcd@other-host:1"
    )
    assert claimant_is_gone(orphan.claimed_by)
    assert not claimant_is_gone(alive.claimed_by) and not claimant_is_gone(elsewhere.claimed_by)
    outbox_wake_due()  # what a worker does as it starts
    assert _texts(ann, shop_bot) == ["orphan"]
    orphan.refresh_from_db()
    assert orphan.status == Status.SENT and orphan.attempts == 2
    # a live worker's row, and one of another host whose process cannot be checked, are left alone
    assert {OutboundMessage.objects.get(pk=r.pk).status for r in (alive, elsewhere)} == {Status.SENDING}
    assert _texts(bea, shop_bot) == _texts(cy, shop_bot) == []


def test_messages_to_one_chat_keep_their_order_whatever_wakes_first(
    shop_bot: SandboxBot, ann: int, eager_tasks: None, sandbox_limits_off: None
) -> None:
    from config.celery import app

    app.conf.task_always_eager = False
    try:
        with transaction.atomic():
            rows = [
                OutboundMessage.objects.create(
                    bot_fingerprint="f" * 64,
                    bot_token=shop_bot.token,
                    chat_id=str(ann),
                    method="sendMessage",
                    params={"text": f"step {i}"},
                )
                for i in range(6)
            ]
    finally:
        app.conf.task_always_eager = True
    # Wake-ups arrive newest first, from several workers at once: only the oldest row may go, and each
    # row that finishes wakes the next.
    assert outbox_send(message_id=rows[5].pk) is None
    assert outbox_send(message_id=rows[2].pk) is None

    def wake(pk: int) -> None:
        try:
            outbox_send(message_id=pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=wake, args=(row.pk,)) for row in reversed(rows)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain_outbox()
    assert _texts(ann, shop_bot) == [f"step {i}" for i in range(6)]


def test_long_text_is_split_into_rows_sent_in_order(
    shop_bot: SandboxBot, ann: int, sandbox_limits_off: None
) -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * 300 for i in range(6)]  # ~9,000 characters
    text = "\n\n".join(paragraphs)
    markup = {"inline_keyboard": [[{"text": "More", "callback_data": "more"}]]}
    first = _send_text(shop_bot, ann, text, reply_markup=markup)
    rows = list(OutboundMessage.objects.order_by("pk"))
    assert rows[0].pk == first.pk and len(rows) == 3
    chat = sandbox_messages(ann, shop_bot)
    assert [m["message_id"] for m in chat] == [
        OutboundMessage.objects.get(pk=r.pk).telegram_message_id for r in rows
    ]
    assert all(len(m["text"]) <= 4096 for m in chat)
    assert " ".join(m["text"] for m in chat).split() == text.split()
    assert [m["reply_markup"] is not None for m in chat] == [False, False, True]


def test_failed_rows_can_be_retried(
    shop_bot: SandboxBot, ann: int, gateway: str, settings: SettingsWrapper
) -> None:
    httpx.post(
        f"{gateway}/sandbox/api/members", json={"bot": shop_bot.username, "user": ann, "status": "kicked"}
    )
    row = _send_text(shop_bot, ann, "second chance")
    row.refresh_from_db()
    assert row.status == Status.FAILED
    httpx.post(
        f"{gateway}/sandbox/api/members", json={"bot": shop_bot.username, "user": ann, "status": "member"}
    )
    assert outbox_retry(message_ids=[row.pk]) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert _texts(ann, shop_bot) == ["second chance"]


def test_admin_lists_rows_and_retries_failed_ones(
    shop_bot: SandboxBot, ann: int, gateway: str, admin_client: object
) -> None:
    httpx.post(
        f"{gateway}/sandbox/api/members", json={"bot": shop_bot.username, "user": ann, "status": "kicked"}
    )
    row = _send_text(shop_bot, ann, "via admin")
    httpx.post(
        f"{gateway}/sandbox/api/members", json={"bot": shop_bot.username, "user": ann, "status": "member"}
    )
    listing = admin_client.get("/admin/telegram/outboundmessage/?status__exact=failed")  # type: ignore[attr-defined]
    assert listing.status_code == 200
    assert f"/admin/telegram/outboundmessage/{row.pk}/change/".encode() in listing.content
    page = admin_client.get(f"/admin/telegram/outboundmessage/{row.pk}/change/")  # type: ignore[attr-defined]
    assert page.status_code == 200
    assert shop_bot.token.encode() not in page.content
    response = admin_client.post(  # type: ignore[attr-defined]
        "/admin/telegram/outboundmessage/", {"action": "retry_failed", "_selected_action": [row.pk]}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == Status.SENT


@pytest.mark.parametrize(
    ("chat_id", "method", "params", "problem"),
    [
        ("not a chat", "sendMessage", {"text": "x"}, "chat_id"),
        (5, "send message", {"text": "x"}, "method"),
        (5, "sendMessage", {"text": "   "}, "non-empty text"),
        (5, "sendMessage", {"text": "x", "photo": object()}, "JSON"),
        (5, "editMessageText", {"message_id": 1, "text": "x" * 5000}, "cannot be split"),
    ],
)
def test_bad_enqueue_input_is_refused_clearly(
    shop_bot: SandboxBot, chat_id: object, method: str, params: dict[str, object], problem: str
) -> None:
    with pytest.raises(InvalidInput, match=problem):
        outbox_enqueue(token=shop_bot.token, chat_id=chat_id, method=method, params=params)  # type: ignore[arg-type]
    assert not OutboundMessage.objects.exists()


def test_a_caption_too_long_sends_the_media_then_the_text(
    shop_bot: SandboxBot, ann: int, sandbox_limits_off: None
) -> None:
    from telegram import InputFile

    uploaded = client.call(
        shop_bot.token, "sendPhoto", chat_id=ann, photo=InputFile(tiny_png(), filename="p.png")
    )
    file_id = uploaded["photo"][-1]["file_id"]
    caption = "A long story about this photo. " * 50  # 1,550 characters
    markup = {"inline_keyboard": [[{"text": "Buy", "callback_data": "buy"}]]}
    outbox_enqueue(
        token=shop_bot.token,
        chat_id=ann,
        method="sendPhoto",
        params={"photo": file_id, "caption": caption, "reply_markup": markup},
    )
    photo, text = sandbox_messages(ann, shop_bot)[1:]
    assert photo["media"]["type"] == "photo" and not photo["caption"] and photo["reply_markup"] is None
    assert text["text"].split() == caption.split() and text["reply_markup"] is not None


def test_a_token_no_configured_key_can_decrypt_fails_the_row(
    shop_bot: SandboxBot, ann: int, settings: SettingsWrapper, outbox_events: OutboxEvents
) -> None:
    settings.FERNET_KEYS = ["a key that is later removed"]
    row = OutboundMessage.objects.create(
        bot_fingerprint="f" * 64,
        bot_token=shop_bot.token,
        chat_id=str(ann),
        method="sendMessage",
        params={"text": "never"},
    )
    settings.FERNET_KEYS = ["the only key now"]
    assert outbox_send(message_id=row.pk) is None
    failed = OutboundMessage.objects.defer("bot_token").get(pk=row.pk)
    assert failed.status == Status.FAILED and failed.error_code == "telegram_invalid_token"
    assert "HERALD_FERNET_KEYS" in failed.last_error
    assert [m.pk for m, _ in outbox_events.failed] == [row.pk]
    assert _texts(ann, shop_bot) == []


def test_a_migrated_group_is_followed_by_the_row_and_the_chats_queue(
    shop_bot: SandboxBot, outbox_events: OutboxEvents, sandbox_limits_off: None, eager_tasks: None
) -> None:
    # The sandbox has no group migration, so the gateway's answer is fed to the outbox as a typed error.
    from config.celery import app
    from herald.telegram.errors import TelegramChatMigrated
    from herald.telegram.services import _claim, _record_outcome
    from tests.telegram.sandbox.helpers import sandbox_group

    supergroup = sandbox_group("Club", admins=[shop_bot.username])
    app.conf.task_always_eager = False
    try:
        with transaction.atomic():
            rows = [
                OutboundMessage.objects.create(
                    bot_fingerprint="f" * 64,
                    bot_token=shop_bot.token,
                    chat_id="-4001",
                    method="sendMessage",
                    params={"text": f"club news {i}"},
                )
                for i in range(2)
            ]
    finally:
        app.conf.task_always_eager = True
    claimed = _claim(rows[0].pk)
    assert claimed is not None
    _record_outcome(claimed, TelegramChatMigrated(supergroup))
    drain_outbox()
    assert [m["text"] for m in sandbox_messages(supergroup)] == ["club news 0", "club news 1"]
    assert set(OutboundMessage.objects.values_list("chat_id", flat=True)) == {str(supergroup)}
    assert OutboundMessage.objects.get(pk=rows[0].pk).attempts == 1  # the migration was not a failed attempt
    assert outbox_events.migrated == [("-4001", str(supergroup))]


def test_a_button_press_is_answered_at_once_not_behind_the_chats_queued_messages(
    shop_bot: SandboxBot, ann: int, sandbox_limits_off: None
) -> None:
    from herald.core.crypto import token_fingerprint
    from herald.telegram.sandbox.services import sandbox_callback_answer
    from tests.telegram.sandbox.helpers import sandbox_press

    keyboard = {"inline_keyboard": [[{"text": "More", "callback_data": "more"}]]}
    shown = client.call(shop_bot.token, "sendMessage", chat_id=ann, text="Menu", reply_markup=keyboard)
    sandbox_press(shop_bot, ann, shown["message_id"], "more")
    query_id = client.call(shop_bot.token, "getUpdates")[-1]["callback_query"]["id"]
    # two messages queued for the chat, the first held back for minutes (a retry-after)
    queued = [
        OutboundMessage.objects.create(
            bot_fingerprint=token_fingerprint(shop_bot.token),
            bot_token=shop_bot.token,
            chat_id=str(ann),
            method="sendMessage",
            params={"text": text},
            next_attempt_at=timezone.now() + dt.timedelta(minutes=minutes),
        )
        for text, minutes in (("first", 5), ("second", 0))
    ]
    outbox_enqueue(
        token=shop_bot.token,
        chat_id=ann,
        method="answerCallbackQuery",
        params={"callback_query_id": query_id, "text": "Coming up"},
    )
    assert sandbox_callback_answer(callback_query_id=query_id)["text"] == "Coming up"
    assert _texts(ann, shop_bot) == ["Menu"]
    # the chat's messages still go in order, the first waking the second
    OutboundMessage.objects.filter(pk=queued[0].pk).update(next_attempt_at=timezone.now())
    outbox_send(message_id=queued[0].pk)
    assert _texts(ann, shop_bot) == ["Menu", "first", "second"]


def test_the_same_dedupe_key_inside_a_callers_transaction_returns_the_first_row(
    shop_bot: SandboxBot, ann: int
) -> None:
    with transaction.atomic():
        first = outbox_enqueue(
            token=shop_bot.token, chat_id=ann, method="sendMessage", params={"text": "a"}, dedupe_key="k-1"
        )
        again = outbox_enqueue(
            token=shop_bot.token, chat_id=ann, method="sendMessage", params={"text": "b"}, dedupe_key="k-1"
        )
        # the caller's transaction goes on after the refused insert
        after = _send_text(shop_bot, ann, "c")
    assert again.pk == first.pk
    assert _texts(ann, shop_bot) == ["a", "c"]
    assert OutboundMessage.objects.get(pk=after.pk).status == Status.SENT


def test_rows_queued_together_are_sent_when_the_block_ends_a_bots_rows_by_drains_in_each_chats_order(
    shop_bot: SandboxBot, ann: int, sandbox_limits_off: None
) -> None:
    from celery.signals import task_prerun

    from herald.telegram.services import outbox_wakes_together
    from tests.telegram.sandbox.helpers import sandbox_bot

    bob = sandbox_user("Bob", username="bob")
    other_bot = sandbox_bot("other_bot", "Other")
    tasks: list[str] = []

    def record(sender: object, **_: object) -> None:
        tasks.append(getattr(sender, "name", "").rsplit(".", 1)[-1])

    task_prerun.connect(record, weak=False)
    try:
        with outbox_wakes_together():
            for text in ("one", "two", "three"):
                _send_text(shop_bot, ann, text)
            _send_text(shop_bot, bob, "hi Bob")
            _send_text(other_bot, ann, "alone")
            # committed, but nothing goes before the block ends
            assert OutboundMessage.objects.filter(status=Status.PENDING).count() == 5
            assert tasks == []
    finally:
        task_prerun.disconnect(record)
    drain_outbox()
    assert _texts(ann, shop_bot) == ["one", "two", "three"]
    assert _texts(bob, shop_bot) == ["hi Bob"]
    assert _texts(ann, other_bot) == ["alone"]
    # shop_bot's four rows went by one drain (a task for all), other_bot's one row by its own wake-up
    assert tasks == ["outbox_drain_task", "outbox_send_task"]
