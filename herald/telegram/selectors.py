"""Reads of the gateway for other apps."""

from __future__ import annotations

from django.db.models import Count, Q

from herald.telegram.models import OutboundMessage

Status = OutboundMessage.Status


def outbox_progress(*, reference: str) -> dict[str, int]:
    """How many of the messages queued under ``reference`` are pending, sent and failed."""
    counts = OutboundMessage.objects.filter(reference=reference).aggregate(
        pending=Count("pk", filter=Q(status__in=OutboundMessage.OPEN_STATUSES)),
        sent=Count("pk", filter=Q(status=Status.SENT)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
    )
    return {key: int(value or 0) for key, value in counts.items()}
