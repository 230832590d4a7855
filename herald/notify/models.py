"""Where to reach a person (phone, linked Telegram chat), each notice's delivery per channel, sandbox SMS."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from herald.core.models import TimeStampedModel


class Contact(TimeStampedModel):
    """A user's channels beyond email: a phone number for SMS and a Telegram chat they linked."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact")
    phone = models.CharField(max_length=32, blank=True)
    telegram_chat_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"contact of {self.user_id}"


class Delivery(TimeStampedModel):
    """One notice on one channel. ``dedupe_key`` is unique, so a notice is queued at most once."""

    class Channel(models.TextChoices):
        EMAIL = "email"
        SMS = "sms"
        TELEGRAM = "telegram"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    dedupe_key = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient}: {self.status}"


class SandboxSms(models.Model):
    """An SMS the sandbox transport "sent": the log a developer (or a test) reads instead of a phone."""

    to = models.CharField(max_length=32, db_index=True)
    text = models.TextField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "sandbox SMS"
        verbose_name_plural = "sandbox SMS"
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"to {self.to}"
