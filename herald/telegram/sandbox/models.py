"""The sandbox's Telegram world, kept in the database so every process (web, worker, tests) sees one state."""

from __future__ import annotations

from django.db import models


class Bot(models.Model):
    """A bot made through the sandbox's BotFather (`POST /sandbox/api/bots`)."""

    id = models.BigIntegerField(primary_key=True)
    token = models.CharField(max_length=100, unique=True)
    username = models.CharField(max_length=64, unique=True)
    first_name = models.CharField(max_length=128)
    webhook_url = models.CharField(max_length=2048, blank=True, default="")
    webhook_secret_token = models.CharField(max_length=256, blank=True, default="")
    webhook_max_connections = models.PositiveIntegerField(default=40)
    allowed_updates = models.JSONField(default=list, blank=True)
    last_error_date = models.DateTimeField(null=True, blank=True)
    last_error_message = models.CharField(max_length=512, blank=True, default="")
    commands = models.JSONField(default=list, blank=True)
    last_update_id = models.BigIntegerField(default=0)
    # One delivery loop (thread or test) at a time works on a bot's webhook queue, across processes.
    delivery_lease_owner = models.CharField(max_length=128, blank=True, default="")
    delivery_lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return f"@{self.username}"


class User(models.Model):
    """A person in the sandbox; their private chat with any bot has ``chat.id == user.id``."""

    id = models.BigIntegerField(primary_key=True)
    first_name = models.CharField(max_length=128)
    last_name = models.CharField(max_length=128, blank=True, default="")
    username = models.CharField(max_length=64, blank=True, default="")
    language_code = models.CharField(max_length=16, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.first_name} ({self.id})"


class Chat(models.Model):
    """A private chat (id == user id), a basic group, a supergroup or a channel (``-100…`` ids)."""

    class Type(models.TextChoices):
        PRIVATE = "private"
        GROUP = "group"
        SUPERGROUP = "supergroup"
        CHANNEL = "channel"

    id = models.BigIntegerField(primary_key=True)
    type = models.CharField(max_length=16, choices=Type.choices)
    title = models.CharField(max_length=255, blank=True, default="")
    username = models.CharField(max_length=64, blank=True, default="", db_index=True)
    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.CASCADE, related_name="chat")
    admins = models.ManyToManyField(Bot, blank=True, related_name="admin_of")
    # Message ids of groups and channels are shared by everyone posting there.
    last_message_id = models.BigIntegerField(default=0)
    # A basic group upgraded to a supergroup answers sends with migrate_to_chat_id, as Telegram does.
    migrated_to_chat_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title or (self.user.first_name if self.user else str(self.id))


class BotChat(models.Model):
    """A bot's side of a private chat: its message id sequence and whether the user blocked the bot."""

    class Status(models.TextChoices):
        MEMBER = "member"
        KICKED = "kicked"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="private_chats")
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="bot_chats")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.MEMBER)
    last_message_id = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bot", "chat"], name="sandbox_botchat_unique")]

    def __str__(self) -> str:
        return f"{self.bot} ↔ {self.chat_id} ({self.status})"


class File(models.Model):
    """A file a bot or user sent; the bytes live under ``SANDBOX_FILES_DIR``."""

    file_id = models.CharField(max_length=128, unique=True)
    file_unique_id = models.CharField(max_length=64, unique=True)
    file_path = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=16)  # photo, video, animation, document, …
    file_name = models.CharField(max_length=255, blank=True, default="")
    mime_type = models.CharField(max_length=128, blank=True, default="")
    file_size = models.BigIntegerField(default=0)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    duration = models.PositiveIntegerField(default=0)
    # A file sent by URL is remembered, never fetched.
    source_url = models.CharField(max_length=2048, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.file_name or self.file_path


class Message(models.Model):
    """A message in a chat, from a bot (through the Bot API) or a user (through the control API)."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="messages")
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    message_id = models.BigIntegerField()
    from_bot = models.BooleanField(default=False)
    from_user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE)
    text = models.TextField(blank=True, default="")
    caption = models.TextField(blank=True, default="")
    entities = models.JSONField(default=list, blank=True)
    media_type = models.CharField(max_length=16, blank=True, default="")
    file = models.ForeignKey(File, null=True, blank=True, on_delete=models.SET_NULL)
    media_group_id = models.CharField(max_length=32, blank=True, default="")
    reply_markup = models.JSONField(null=True, blank=True)
    reply_to_message_id = models.BigIntegerField(null=True, blank=True)
    edited = models.BooleanField(default=False)
    edit_date = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    date = models.DateTimeField()

    class Meta:
        ordering = ["chat_id", "message_id"]
        indexes = [
            models.Index(fields=["chat", "message_id"], name="sandbox_msg_chat_id"),
            models.Index(fields=["bot", "chat", "message_id"], name="sandbox_msg_bot_chat_id"),
        ]

    def __str__(self) -> str:
        return f"{self.chat_id}#{self.message_id}"


class Update(models.Model):
    """An update for a bot: queued for getUpdates, or delivered to its webhook with retries."""

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        CONFIRMED = "confirmed"  # fetched and confirmed through getUpdates
        DROPPED = "dropped"  # drop_pending_updates, or given up after SANDBOX_WEBHOOK_MAX_AGE_SECONDS

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="updates")
    update_id = models.BigIntegerField()
    kind = models.CharField(max_length=32)
    payload = models.JSONField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=512, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bot_id", "update_id"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "update_id"], name="sandbox_update_unique"),
        ]
        indexes = [models.Index(fields=["state", "bot", "update_id"], name="sandbox_update_pending")]

    def __str__(self) -> str:
        return f"{self.bot_id}/{self.update_id} {self.kind} ({self.state})"


class CallbackQuery(models.Model):
    """A press on an inline button, waiting for the bot's answerCallbackQuery."""

    id = models.CharField(max_length=32, primary_key=True)
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="callback_queries")
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    message = models.ForeignKey(Message, on_delete=models.CASCADE)
    data = models.CharField(max_length=64)
    answered = models.BooleanField(default=False)
    answer_text = models.CharField(max_length=200, blank=True, default="")
    show_alert = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.id} {self.data!r}"


class Call(models.Model):
    """One Bot API call a bot made, as the sandbox answered it."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="calls")
    method = models.CharField(max_length=64)
    params = models.JSONField(default=dict)
    status = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=512, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.bot_id} {self.method} {self.status}"
