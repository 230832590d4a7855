"""Notify: a notice is queued once per key and channel, sent once even when its task runs twice."""

from __future__ import annotations

from typing import Any

import pytest

from herald.notify.models import Delivery, SandboxSms
from herald.notify.services import contact_set, delivery_send, notification_send
from herald.notify.transports import SandboxSmsTransport, TransportError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_notice_goes_to_every_channel_once(
    mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory.create()
    contact_set(user_id=user.pk, phone="+15550001")
    created = notification_send(user_id=user.pk, subject="Hi", body="There", dedupe_key="k")
    assert sorted(d.channel for d in created) == ["email", "sms"]
    assert notification_send(user_id=user.pk, subject="Hi", body="There", dedupe_key="k") == []

    for delivery in created:
        assert delivery_send(delivery_id=delivery.pk).sent is True
        assert delivery_send(delivery_id=delivery.pk).sent is False  # a second run sends nothing
    assert len(mailoutbox) == 1 and mailoutbox[0].subject == "Hi"
    assert SandboxSms.objects.get().to == "+15550001"
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_a_bad_phone_number_fails_for_good() -> None:
    with pytest.raises(TransportError) as error:
        SandboxSmsTransport().send(recipient="call me", subject="s", body="b", dedupe_key="k")
    assert error.value.permanent is True
    user = UserFactory.create()
    contact_set(user_id=user.pk, phone="not-a-number")
    sms = next(
        d
        for d in notification_send(user_id=user.pk, subject="s", body="b", dedupe_key="x")
        if d.channel == "sms"
    )
    outcome = delivery_send(delivery_id=sms.pk)
    assert (outcome.sent, outcome.retry) == (False, False)
    sms.refresh_from_db()
    assert sms.status == "failed" and "not a phone number" in sms.last_error


def test_transient_email_errors_are_retried_then_given_up(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    settings.NOTIFY_MAX_ATTEMPTS = 2
    user = UserFactory.create()
    (email,) = notification_send(user_id=user.pk, subject="s", body="b", dedupe_key="smtp")
    assert delivery_send(delivery_id=email.pk).retry is True
    assert delivery_send(delivery_id=email.pk).retry is False
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 2)


def test_a_delivery_whose_task_was_lost_is_sent_by_the_sweep(
    mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from config.celery import app
    from herald.notify.services import deliveries_sweep

    user = UserFactory.create()
    (email,) = notification_send(user_id=user.pk, subject="Lost", body="b", dedupe_key="lost")
    assert deliveries_sweep() == 0  # not stale yet
    Delivery.objects.filter(pk=email.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    app.conf.task_always_eager = True
    try:
        assert deliveries_sweep() == 1
        assert deliveries_sweep() == 0
    finally:
        app.conf.task_always_eager = False
    assert [m.subject for m in mailoutbox] == ["Lost"]
