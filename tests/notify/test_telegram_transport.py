"""Telegram notices go through the gateway's outbox to the sandbox Bot API, once per notice."""

from __future__ import annotations

from typing import Any

import pytest

from herald.notify.models import Delivery
from herald.notify.services import contact_set, delivery_send, notification_send
from herald.telegram.models import OutboundMessage
from tests.factories import UserFactory
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_messages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("gateway", "eager_tasks")]


def test_a_notice_reaches_the_linked_chat_once(shop_bot: SandboxBot, ann: int, settings: Any) -> None:
    settings.NOTIFY_TELEGRAM_BOT_TOKEN = shop_bot.token
    user = UserFactory.create()
    contact_set(user_id=user.pk, telegram_chat_id=ann)
    created = notification_send(user_id=user.pk, subject="Bundle expires", body="on Friday", dedupe_key="tg")
    telegram = next(d for d in created if d.channel == Delivery.Channel.TELEGRAM)
    delivery_send(delivery_id=telegram.pk)  # the task already ran on commit: a second run does nothing

    assert [m["text"] for m in sandbox_messages(ann, shop_bot)] == ["Bundle expires\n\non Friday"]
    assert OutboundMessage.objects.filter(dedupe_key=telegram.dedupe_key).count() == 1
    telegram.refresh_from_db()
    assert (telegram.status, telegram.attempts) == ("sent", 1)
