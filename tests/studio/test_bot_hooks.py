"""The per-kind hooks the studio plugs into ``herald.bots``: a kind's handler takes each update once, in the
transaction that claims it; a handler that fails records the failure instead of looping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from herald.bots import handlers
from herald.bots.models import BotKind, InboundUpdate, TelegramBot, UpdateStatus
from herald.bots.processing import update_process
from herald.core.crypto import token_fingerprint

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "123456789:AAFakeTokenForTheHooksTestOnly_abcdefgh"


@pytest.fixture
def alerts_bot() -> TelegramBot:
    return TelegramBot.objects.create(
        name="Alerts", token=TOKEN, token_fingerprint=token_fingerprint(TOKEN), kind=BotKind.ALERTS
    )


@pytest.fixture
def seen() -> Iterator[list[Any]]:
    calls: list[Any] = []
    previous = handlers.update_handler_for("alerts")

    def handler(update: InboundUpdate) -> None:
        if update.payload["message"]["text"] == "boom":
            raise ValueError("a bug in the handler")
        calls.append((update.update_id, update.status))

    handlers.register_update_handler("alerts", handler)
    yield calls
    handlers._update_handlers.pop("alerts", None)
    if previous is not None:
        handlers.register_update_handler("alerts", previous)


def _update(bot: TelegramBot, update_id: int, text: str) -> InboundUpdate:
    message = {
        "message_id": update_id,
        "chat": {"id": 42, "type": "private"},
        "from": {"id": 42},
        "text": text,
    }
    return InboundUpdate.objects.create(
        bot=bot,
        update_id=update_id,
        chat_id=42,
        kind="message",
        payload={"update_id": update_id, "message": message},
    )


def test_a_kind_handler_gets_each_update_once_and_in_order(alerts_bot: TelegramBot, seen: list[Any]) -> None:
    first, second = _update(alerts_bot, 1, "one"), _update(alerts_bot, 2, "two")
    update_process(update_pk=second.pk)  # the older update of the chat goes first
    update_process(update_pk=first.pk)
    update_process(update_pk=second.pk)  # a repeated task does nothing
    assert seen == [(1, UpdateStatus.RECEIVED), (2, UpdateStatus.RECEIVED)]
    assert set(InboundUpdate.objects.values_list("status", flat=True)) == {UpdateStatus.PROCESSED}


def test_a_failing_handler_marks_the_update_failed(alerts_bot: TelegramBot, seen: list[Any]) -> None:
    bad = _update(alerts_bot, 1, "boom")
    update_process(update_pk=bad.pk)
    bad.refresh_from_db()
    assert bad.status == UpdateStatus.FAILED and "a bug in the handler" in bad.error
    update_process(update_pk=bad.pk)
    assert seen == []


def test_settings_hooks_are_looked_up_by_kind() -> None:
    assert handlers.settings_hook_for("studio") is not None  # the studio registered itself
    assert handlers.update_handler_for("studio") is not None
    assert handlers.settings_hook_for("flows") is None and handlers.update_handler_for("flows") is None
