"""Posts and where they go: destinations, drafts and schedules, what was published (message ids), tracked
links, reactions and the event log the analytics read."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from herald.core.models import TimeStampedModel


class PostFormat(models.TextChoices):
    SELLING = "selling", "🔥 Selling"
    COLLECTION = "collection", "📝 Collection"
    INFO = "info", "💡 Info"
    PROMO = "promo", "⚡ Promo"


class MediaKind(models.TextChoices):
    NONE = "none", "No media"
    PHOTO = "photo", "Photo"
    VIDEO = "video", "Video"
    ANIMATION = "animation", "GIF"


class PostStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHING = "publishing", "Publishing"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"
    ARCHIVED = "archived", "Archived"


class PostLanguage(models.TextChoices):
    ARMENIAN = "hy", "Հայերեն"
    ENGLISH = "en", "English"
    RUSSIAN = "ru", "Русский"


class TextSource(models.TextChoices):
    AI = "ai", "AI"
    TEMPLATE = "template", "Template"
    MANUAL = "manual", "Written by the editor"


class DestinationKind(models.TextChoices):
    TELEGRAM = "telegram", "Telegram channel"
    X = "x", "X"
    LINKEDIN = "linkedin", "LinkedIn"


class Destination(TimeStampedModel):
    """A place posts are published to: a Telegram channel through one of our bots (X, LinkedIn later)."""

    kind = models.CharField(max_length=16, choices=DestinationKind.choices, default=DestinationKind.TELEGRAM)
    bot = models.ForeignKey(
        "bots.TelegramBot",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="destinations",
        help_text="The bot that posts (Telegram destinations).",
    )
    chat_id = models.CharField(max_length=64, help_text="The channel's numeric id (-100…) once resolved.")
    username = models.CharField(max_length=64, blank=True, help_text="The channel's @name, if public.")
    title = models.CharField(max_length=255, blank=True)
    timezone = models.CharField(max_length=64, default="Asia/Yerevan", help_text="IANA name, for analytics.")

    class Meta:
        ordering = ["title", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "bot", "chat_id"], name="content_destination_unique_chat_per_bot"
            )
        ]

    def __str__(self) -> str:
        name = self.title or (f"@{self.username}" if self.username else self.chat_id)
        return f"{name} ({self.get_kind_display()})"


class Post(TimeStampedModel):
    """One channel post from draft to archive. The status is the truth about work still owed (a post due
    at 10:00 is a row with ``scheduled``); moves between statuses are conditional updates."""

    EDITABLE_STATUSES = (PostStatus.DRAFT, PostStatus.SCHEDULED, PostStatus.FAILED)

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="posts")
    author_telegram_id = models.BigIntegerField(db_index=True, help_text="The editor's Telegram user id.")
    format = models.CharField(max_length=16, choices=PostFormat.choices, default=PostFormat.SELLING)
    keywords = models.TextField(blank=True)
    details = models.TextField(blank=True)
    language = models.CharField(max_length=8, choices=PostLanguage.choices, default=PostLanguage.ARMENIAN)
    text = models.TextField(blank=True, help_text="The final text, plain; escaped when sent.")
    text_source = models.CharField(max_length=16, choices=TextSource.choices, default=TextSource.MANUAL)
    media_kind = models.CharField(max_length=16, choices=MediaKind.choices, default=MediaKind.NONE)
    media_file_id = models.CharField(max_length=255, blank=True)
    media_file_unique_id = models.CharField(max_length=128, blank=True)
    media_file_size = models.PositiveBigIntegerField(null=True, blank=True)
    links = models.JSONField(default=list, blank=True, help_text='[{"text": …, "url": …}] shown as buttons.')
    status = models.CharField(max_length=16, choices=PostStatus.choices, default=PostStatus.DRAFT)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    channel_message_ids = models.JSONField(default=list, blank=True)
    publish_attempts = models.PositiveIntegerField(default=0)
    # publish_attempts when the editor last asked to publish: automatic retries are counted from here
    publish_round_start = models.PositiveIntegerField(default=0)
    # When the current attempt was handed to the gateway (null: queued, not yet taken by a worker).
    publish_claimed_at = models.DateTimeField(null=True, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True, help_text="The automatic retry, if any.")
    last_error = models.TextField(blank=True, help_text="Telegram's own words for the last failure.")
    version = models.PositiveIntegerField(default=0, help_text="Bumped on every change, to detect races.")
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["destination", "status", "updated_at"], name="content_post_by_status"),
            # the sweeper's queries touch only posts with work owed: keep this index small
            models.Index(
                fields=["status", "scheduled_at"],
                name="content_post_owed",
                condition=Q(status__in=["scheduled", "publishing", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        first_line = (self.text or self.keywords or "").strip().splitlines()[:1]
        return f"#{self.pk} {first_line[0][:50] if first_line else '(empty)'} [{self.status}]"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    @property
    def is_due(self) -> bool:
        return (
            self.status == PostStatus.SCHEDULED
            and self.scheduled_at is not None
            and self.scheduled_at <= timezone.now()
        )


class PostMessage(models.Model):
    """A channel message a post became (media, text parts), to find the post a reaction update is about."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="messages")
    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="+")
    message_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "message_id"], name="content_message_unique_per_destination"
            )
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} of post {self.post_id}"


class TrackedLink(models.Model):
    """A link of a post as the channel shows it: ``/r/<code>`` counts the click and redirects to ``url``."""

    code = models.CharField(max_length=16, unique=True)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="tracked_links")
    text = models.CharField(max_length=64, blank=True)
    url = models.URLField(max_length=2000)
    clicks = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["post", "pk"]
        constraints = [models.UniqueConstraint(fields=["post", "url"], name="content_link_unique_per_post")]

    def __str__(self) -> str:
        return f"/r/{self.code} -> {self.url}"


class PostEventKind(models.TextChoices):
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Publish failed"
    CLICK = "click", "Link click"
    REACTION = "reaction", "Reactions changed"


class PostEvent(models.Model):
    """What happened to a post, one row each: the analytics count these."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=PostEventKind.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["post", "kind", "at"], name="content_event_by_post")]

    def __str__(self) -> str:
        return f"{self.kind} of post {self.post_id} at {self.at:%Y-%m-%d %H:%M:%S}"


class PostReactions(models.Model):
    """The latest count of one reaction under a channel message of a post (Telegram sends totals, in
    message_reaction_count updates)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    message_id = models.BigIntegerField(help_text="The channel message (a post may be several).")
    emoji = models.CharField(max_length=64, help_text="The emoji, custom:<id> or paid.")
    count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "post reactions"
        ordering = ["post", "-count"]
        constraints = [
            models.UniqueConstraint(fields=["post", "message_id", "emoji"], name="content_reaction_unique")
        ]

    def __str__(self) -> str:
        return f"{self.emoji} × {self.count}"
