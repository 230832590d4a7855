"""Every write in notify: queue a notice on each channel a user can be reached on, deliver one delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from herald.notify.models import Contact, Delivery
from herald.notify.transports import TransportError, transport_for


def contact_get(*, user_id: int) -> Contact:
    """The user's contact (unsaved and empty when they never gave one)."""
    return Contact.objects.filter(user_id=user_id).first() or Contact(user_id=user_id)


def contact_set(*, user_id: int, phone: str | None = None, telegram_chat_id: int | None = None) -> Contact:
    contact, _ = Contact.objects.get_or_create(user_id=user_id)
    if phone is not None:
        contact.phone = phone
    if telegram_chat_id is not None:
        contact.telegram_chat_id = telegram_chat_id
    contact.save()
    return contact


def _recipients(user_id: int) -> list[tuple[str, str]]:
    channels: list[tuple[str, str]] = []
    email = get_user_model().objects.filter(pk=user_id).values_list("email", flat=True).first()
    if email:
        channels.append((Delivery.Channel.EMAIL, email))
    contact = Contact.objects.filter(user_id=user_id).first()
    if contact is not None and contact.phone:
        channels.append((Delivery.Channel.SMS, contact.phone))
    if contact is not None and contact.telegram_chat_id is not None:
        channels.append((Delivery.Channel.TELEGRAM, str(contact.telegram_chat_id)))
    return channels


def notification_send(*, user_id: int, subject: str, body: str, dedupe_key: str) -> list[Delivery]:
    """Queues the notice on every channel of the user, once per ``dedupe_key`` (a repeat queues nothing).

    Returns the deliveries created now; each is sent by a task after the transaction commits.
    """
    from herald.notify.tasks import delivery_send_task

    created: list[Delivery] = []
    for channel, recipient in _recipients(user_id):
        try:
            with transaction.atomic():
                delivery = Delivery.objects.create(
                    dedupe_key=f"{dedupe_key}:{channel}"[:255],
                    user_id=user_id,
                    channel=channel,
                    recipient=recipient,
                    subject=subject[:255],
                    body=body,
                )
        except IntegrityError:  # queued before: once per notice and channel
            continue
        created.append(delivery)
        transaction.on_commit(partial(delivery_send_task.delay, delivery.pk))
    return created


@dataclass(frozen=True)
class DeliveryOutcome:
    sent: bool
    retry: bool
    attempts: int = 0


def delivery_send(*, delivery_id: int) -> DeliveryOutcome:
    """Sends one pending delivery; a sent or failed one is left alone (safe to run twice)."""
    delivery = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).first()
    if delivery is None:
        return DeliveryOutcome(sent=False, retry=False)
    Delivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1, updated_at=timezone.now())
    try:
        transport_for(delivery.channel).send(
            recipient=delivery.recipient,
            subject=delivery.subject,
            body=delivery.body,
            dedupe_key=delivery.dedupe_key,
        )
    except TransportError as exc:
        exhausted = exc.permanent or delivery.attempts + 1 >= settings.NOTIFY_MAX_ATTEMPTS
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
            last_error=exc.message[:2000],
            status=Delivery.Status.FAILED if exhausted else Delivery.Status.PENDING,
        )
        return DeliveryOutcome(sent=False, retry=not exhausted, attempts=delivery.attempts + 1)
    # conditional: a concurrent run that sent it first keeps its own sent_at
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return DeliveryOutcome(sent=True, retry=False, attempts=delivery.attempts + 1)


def deliveries_sweep(*, stale_seconds: int = 600) -> int:
    """Re-queues deliveries left pending (their task was lost); returns how many."""
    from herald.notify.tasks import delivery_send_task

    cutoff = timezone.now() - timedelta(seconds=stale_seconds)
    stale = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, updated_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    for pk in stale:
        Delivery.objects.filter(pk=pk, status=Delivery.Status.PENDING).update(updated_at=timezone.now())
        delivery_send_task.delay(pk)
    return len(stale)
