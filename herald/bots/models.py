"""Seed 001's schema (TelegramBot, BotUser, BotFlow, BotMessage) plus what running it safely needs:
the inbox of updates (each taken once), conversation state, flow runs and answers, broadcasts."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from herald.core.crypto import EncryptedTextField
from herald.core.models import TimeStampedModel


class BotKind(models.TextChoices):
    FLOWS = "flows", "Flows"
    STUDIO = "studio", "Channel studio"
    ALERTS = "alerts", "Deal alerts"


class TelegramBot(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    token = EncryptedTextField(help_text="Encrypted at rest; never returned by the API.")
    token_fingerprint = models.CharField(max_length=64, unique=True, editable=False)
    telegram_id = models.BigIntegerField(null=True, blank=True, editable=False)
    username = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=16, choices=BotKind.choices, default=BotKind.FLOWS)
    user_count = models.PositiveIntegerField(default=0)
    request_count = models.PositiveBigIntegerField(default=0)
    is_webhook_set = models.BooleanField(default=False)
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "Telegram bot"

    def __str__(self) -> str:
        return f"{self.name} (@{self.username})" if self.username else self.name

    @property
    def masked_token(self) -> str:
        """``123456789:AA…wxyz``: enough to tell tokens apart, not enough to use one."""
        bot_id, _, secret = self.token.partition(":")
        return f"{bot_id}:{secret[:2]}…{secret[-4:]}" if len(secret) > 8 else f"{bot_id}:…"


class BotUser(models.Model):
    bot = models.ForeignKey(TelegramBot, on_delete=models.CASCADE, related_name="users")
    chat_id = models.BigIntegerField()
    username = models.CharField(max_length=64, blank=True)
    first_name = models.CharField(max_length=128, blank=True)
    last_name = models.CharField(max_length=128, blank=True)
    language = models.CharField(max_length=16, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    bio = models.TextField(blank=True)
    profile_photo = models.CharField(max_length=255, blank=True, help_text="Telegram file id")
    is_blocked = models.BooleanField(default=False, help_text="The user blocked the bot.")
    is_active = models.BooleanField(default=True)
    first_interaction = models.DateTimeField(auto_now_add=True)
    last_interaction = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bot", "chat_id"], name="bots_user_unique_per_bot")]
        ordering = ["-last_interaction"]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else f"{self.first_name} ({self.chat_id})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class BotFlow(TimeStampedModel):
    bot = models.ForeignKey(TelegramBot, on_delete=models.CASCADE, related_name="flows")
    name = models.CharField(max_length=100)
    flow_data = models.JSONField(help_text="See docs/flows.md for the format.")
    trigger_command = models.CharField(max_length=32, blank=True, help_text="e.g. start for /start")
    is_default = models.BooleanField(default=False, help_text="Answers anything no command matched.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["bot"], condition=Q(is_default=True, is_active=True), name="bots_flow_one_default"
            ),
            models.UniqueConstraint(
                fields=["bot", "trigger_command"],
                condition=Q(is_active=True) & ~Q(trigger_command=""),
                name="bots_flow_unique_trigger",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MessageDirection(models.TextChoices):
    INCOMING = "incoming", "Incoming"
    OUTGOING = "outgoing", "Outgoing"


class BotMessage(models.Model):
    bot = models.ForeignKey(TelegramBot, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(BotUser, on_delete=models.CASCADE, related_name="messages")
    message_type = models.CharField(max_length=24, default="text")
    direction = models.CharField(max_length=8, choices=MessageDirection.choices)
    text = models.TextField(blank=True)
    file_id = models.CharField(max_length=255, blank=True)
    file_url = models.URLField(max_length=500, blank=True)
    flow = models.ForeignKey(
        BotFlow, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    telegram_message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["bot", "direction", "created_at"], name="bots_msg_stats")]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_type}: {self.text[:40]}"


class UpdateStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class InboundUpdate(models.Model):
    """Every update Telegram delivered, taken once per (bot, update_id) however often Telegram retries."""

    bot = models.ForeignKey(TelegramBot, on_delete=models.CASCADE, related_name="updates")
    update_id = models.BigIntegerField()
    chat_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=32)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=UpdateStatus.choices, default=UpdateStatus.RECEIVED)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bot", "update_id"], name="bots_update_once")]
        indexes = [models.Index(fields=["status", "received_at"], name="bots_update_pending")]

    def __str__(self) -> str:
        return f"update {self.update_id} ({self.kind})"


class Conversation(models.Model):
    """Where one user stands in one flow, keyed by (bot, chat, user) so any process can continue it."""

    bot = models.ForeignKey(TelegramBot, on_delete=models.CASCADE, related_name="conversations")
    chat_id = models.BigIntegerField()
    user_id = models.BigIntegerField()
    flow = models.ForeignKey(BotFlow, on_delete=models.SET_NULL, null=True, blank=True)
    run = models.ForeignKey("FlowRun", on_delete=models.SET_NULL, null=True, blank=True)
    state = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=0, help_text="Bumped on every change, to detect races.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bot", "chat_id", "user_id"], name="bots_conversation_unique")
        ]

    def __str__(self) -> str:
        return f"conversation in chat {self.chat_id}"


class FlowRun(models.Model):
    bot = models.ForeignKey(TelegramBot, on_delete=models.CASCADE, related_name="runs")
    flow = models.ForeignKey(BotFlow, on_delete=models.CASCADE, related_name="runs")
    user = models.ForeignKey(BotUser, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    completed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"run of {self.flow_id} by {self.user_id}"


class FlowAnswer(models.Model):
    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="answers")
    flow = models.ForeignKey(BotFlow, on_delete=models.CASCADE, related_name="answers")
    user = models.ForeignKey(BotUser, on_delete=models.CASCADE, related_name="answers")
    step_id = models.CharField(max_length=32)
    key = models.CharField(max_length=32)
    value = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.key} = {self.value!r}"


class Broadcast(TimeStampedModel):
    bot = models.ForeignKey(TelegramBot, on_delete=models.CASCADE, related_name="broadcasts")
    text = models.TextField()
    photo = models.CharField(max_length=500, blank=True, help_text="A Telegram file id or an https URL")
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"broadcast {self.pk}: {self.text[:40]}"
