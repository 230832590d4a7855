"""A studio (a hosted bot of kind ``studio`` posting to one channel), its whitelist of editors, each editor's
place in the conversation, and the audit log of everything editors (and outsiders) did."""

from __future__ import annotations

from django.db import models

from herald.core.models import TimeStampedModel

POST_LANGUAGES = [("hy", "Armenian"), ("ru", "Russian"), ("en", "English")]
INTERFACE_LANGUAGES = [("en", "English"), ("hy", "Armenian"), ("ru", "Russian")]
POST_FORMATS = [
    ("selling", "🔥 Selling"),
    ("collection", "📝 Collection"),
    ("info", "💡 Info"),
    ("promo", "⚡ Promo"),
]


class Studio(TimeStampedModel):
    bot = models.OneToOneField("bots.TelegramBot", on_delete=models.CASCADE, related_name="studio")
    destination = models.ForeignKey(
        "content.Destination", on_delete=models.PROTECT, related_name="studios", help_text="The channel."
    )
    channel = models.CharField(max_length=64, help_text="The channel as configured: @username or -100… id.")
    language = models.CharField(
        max_length=2, choices=POST_LANGUAGES, default="hy", help_text="Language of generated posts."
    )
    timezone = models.CharField(max_length=64, default="Asia/Yerevan")
    default_format = models.CharField(max_length=16, choices=POST_FORMATS, default="selling")
    interface_language = models.CharField(
        max_length=2, choices=INTERFACE_LANGUAGES, default="en", help_text="What the bot speaks to editors."
    )

    class Meta:
        verbose_name = "studio"

    def __str__(self) -> str:
        return f"{self.bot} → {self.channel}"


class StudioEditor(models.Model):
    """A Telegram user on the studio's whitelist; admins also change the settings."""

    studio = models.ForeignKey(Studio, on_delete=models.CASCADE, related_name="editors")
    telegram_user_id = models.BigIntegerField()
    is_admin = models.BooleanField(default=False)
    blocked_until = models.DateTimeField(
        null=True, blank=True, help_text="Set when the editor exceeded the rate limit."
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["studio", "telegram_user_id"], name="studio_editor_once")
        ]
        ordering = ["-is_admin", "telegram_user_id"]

    def __str__(self) -> str:
        return f"{self.telegram_user_id}{' (admin)' if self.is_admin else ''}"


class EditorSession(models.Model):
    """Where one editor stands in the conversation (a state of ``herald.studio.states``) and its data."""

    studio = models.ForeignKey(Studio, on_delete=models.CASCADE, related_name="sessions")
    telegram_user_id = models.BigIntegerField()
    state = models.CharField(max_length=32, default="menu")
    data = models.JSONField(default=dict, blank=True)
    post = models.ForeignKey("content.Post", on_delete=models.SET_NULL, null=True, blank=True)
    version = models.PositiveIntegerField(default=0, help_text="Bumped on every change.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["studio", "telegram_user_id"], name="studio_session_once")
        ]

    def __str__(self) -> str:
        return f"{self.telegram_user_id}: {self.state}"


class AuditEntry(models.Model):
    """Who did what, when, to which post; unauthorized attempts and rate-limit blocks too."""

    studio = models.ForeignKey(Studio, on_delete=models.CASCADE, related_name="audit")
    telegram_user_id = models.BigIntegerField(db_index=True)
    action = models.CharField(max_length=48)
    post_id = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["studio", "action", "at"], name="studio_audit_by_action")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.telegram_user_id} {self.action}"
