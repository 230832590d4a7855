"""The outbox: every message Herald sends to Telegram is first a row here, so it is sent once, in order,
and never lost (a sweeper re-drives rows whose wake-up went missing).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from herald.core.crypto import EncryptedTextField
from herald.core.models import TimeStampedModel
from herald.core.processes import CLAIM_TAG_MAX_LENGTH


class OutboundMessage(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    OPEN_STATUSES = (Status.PENDING, Status.SENDING)

    # The gateway carries its own credentials so it needs no domain app: the fingerprint finds and paces
    # a bot, the encrypted token sends.
    bot_fingerprint = models.CharField(max_length=64)
    bot_token = EncryptedTextField()
    chat_id = models.CharField(max_length=64, help_text="A numeric chat id, or @username for a channel.")
    method = models.CharField(max_length=64, help_text="Bot API method, e.g. sendMessage.")
    params = models.JSONField(default=dict, blank=True, help_text="Bot API parameters except chat_id.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, help_text="Telegram's description of the last failure.")
    error_code = models.CharField(max_length=40, blank=True)
    telegram_message_id = models.BigIntegerField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True, help_text="Telegram's answer to the send.")
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(
        max_length=CLAIM_TAG_MAX_LENGTH,
        blank=True,
        help_text="Who claimed the row: the claim and the worker process (claim@host:pid).",
    )
    # A chat slot already booked for this row (set when the chat's pacing asked it to come back later).
    chat_slot_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    reference = models.CharField(max_length=200, blank=True, help_text="Free text for the caller.")

    class Meta:
        db_table = "telegram_outbound_message"
        indexes = [
            # Full indexes where SQLite must use them: it uses a partial index only when a query repeats
            # the index's condition as literals, and Django binds them as parameters.
            # The chat's order: "is there an older open row in this chat?", "the chat's next pending row".
            models.Index(fields=["bot_fingerprint", "chat_id", "status", "id"], name="outbox_by_chat"),
            # A drain's claim walks a bot's pending rows in id order and stops after a batch.
            models.Index(fields=["bot_fingerprint", "status", "id"], name="outbox_by_bot"),
            # The sweeper's: open rows only (used by PostgreSQL; SQLite scans, which the purge keeps short).
            models.Index(
                fields=["status", "next_attempt_at"],
                name="outbox_open_by_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["reference"], name="outbox_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.method} to {self.chat_id} ({self.status})"
