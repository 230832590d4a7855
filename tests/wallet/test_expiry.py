"""The daily job: one notice per subscription and expiry (email, SMS, Telegram when linked), auto-renewal
from the balance or a notice saying why it could not be renewed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from herald.accounts.models import User
from herald.notify.models import Delivery, SandboxSms
from herald.notify.services import contact_set
from herald.wallet import services
from herald.wallet.models import ExpiryNotice, Offer, Subscription, Transaction
from herald.wallet.tasks import subscriptions_expiring_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


def subscribe(user: User, offer: Offer, *, expires_in: timedelta, auto_renew: bool = False) -> Subscription:
    now = timezone.now()
    return Subscription.objects.create(
        user=user,
        offer=offer,
        activated_at=now - timedelta(days=27),
        expires_at=now + expires_in,
        auto_renew=auto_renew,
    )


def run_daily_job(capture: Any) -> None:
    with capture(execute=True):
        subscriptions_expiring_task.delay()


def test_expiring_subscription_gets_one_notice_on_each_channel_even_if_the_job_runs_twice(
    customer: User, offer: Offer, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    contact_set(user_id=customer.pk, phone="+4915112345678")
    subscribe(customer, offer, expires_in=timedelta(days=2))
    far = services.offer_create(name="Yearly", price="1.00", external_code="Y")
    subscribe(customer, far, expires_in=timedelta(days=20))  # not yet

    run_daily_job(django_capture_on_commit_callbacks)
    run_daily_job(django_capture_on_commit_callbacks)

    assert [m.subject for m in mailoutbox] == ["10 GB bundle expires soon"]
    assert mailoutbox[0].to == [customer.email]
    assert [s.to for s in SandboxSms.objects.all()] == ["+4915112345678"]
    assert "10 GB bundle expires on" in SandboxSms.objects.get().text
    assert ExpiryNotice.objects.count() == 1


def test_a_renewed_subscription_is_noticed_again_at_its_next_expiry(
    customer: User, offer: Offer, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    subscription = subscribe(customer, offer, expires_in=timedelta(days=1))
    run_daily_job(django_capture_on_commit_callbacks)
    subscription.expires_at += timedelta(days=30)
    subscription.save()
    run_daily_job(django_capture_on_commit_callbacks)  # not within 3 days: nothing
    assert len(mailoutbox) == 1
    later = timezone.now() + timedelta(days=29)
    with django_capture_on_commit_callbacks(execute=True):
        services.subscriptions_expiring_process(now=later)
    assert len(mailoutbox) == 2


@pytest.mark.django_db(transaction=True)
def test_auto_renew_pays_from_the_balance_through_the_activation_system(
    customer: User,
    offer: Offer,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
    live_server: Any,
    settings: Any,
) -> None:
    settings.ACTIVATION_API_BASE = f"{live_server.url}/sandbox/activation"
    subscription = subscribe(customer, offer, expires_in=timedelta(days=1), auto_renew=True)
    run_daily_job(django_capture_on_commit_callbacks)
    run_daily_job(django_capture_on_commit_callbacks)
    renewal = Transaction.objects.get(kind="renewal")
    assert (renewal.status, renewal.amount) == ("SUCCESS", Decimal("5.00"))
    assert [m.subject for m in mailoutbox] == ["10 GB bundle is being renewed"]
    subscription.refresh_from_db()
    assert subscription.expires_at > timezone.now() + timedelta(days=30)


def test_auto_renew_without_money_tells_the_user_why(
    customer: User, offer: Offer, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    expensive = services.offer_create(name="Unlimited", price="99.00", external_code="U")
    subscribe(customer, expensive, expires_in=timedelta(days=1), auto_renew=True)
    run_daily_job(django_capture_on_commit_callbacks)
    run_daily_job(django_capture_on_commit_callbacks)
    assert not Transaction.objects.filter(kind="renewal").exists()
    assert [m.subject for m in mailoutbox] == ["Unlimited could not be renewed"]
    assert "available balance is 20.00" in mailoutbox[0].body
    assert ExpiryNotice.objects.get().action == "renewal_refused"


def test_telegram_notice_for_a_linked_chat_without_a_bot_is_logged_as_failed(
    customer: User, offer: Offer, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTIFY_TELEGRAM_BOT_TOKEN = ""
    contact_set(user_id=customer.pk, telegram_chat_id=4242)
    subscribe(customer, offer, expires_in=timedelta(days=1))
    run_daily_job(django_capture_on_commit_callbacks)
    telegram = Delivery.objects.get(channel="telegram")
    assert (telegram.status, telegram.recipient) == ("failed", "4242")
    assert "NOTIFY_TELEGRAM_BOT_TOKEN" in telegram.last_error
    assert Delivery.objects.get(channel="email").status == "sent"
