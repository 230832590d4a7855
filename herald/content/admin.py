"""The content admin: destinations, posts (with their links, reactions and events; publish and retry
actions), tracked links and the event log."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from herald.content import services
from herald.content.models import Destination, Post, PostEvent, PostReactions, TrackedLink
from herald.core.admin import ReadOnlyModelAdmin
from herald.core.errors import HeraldError


@admin.register(Destination)
class DestinationAdmin(ModelAdmin):
    list_display = ["__str__", "kind", "bot", "chat_id", "username", "timezone", "created_at"]
    list_filter = ["kind"]
    search_fields = ["title", "username", "chat_id"]
    readonly_fields = ["created_at", "updated_at"]


class TrackedLinkInline(TabularInline):
    model = TrackedLink
    fields = ["code", "text", "url", "clicks"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class ReactionsInline(TabularInline):
    model = PostReactions
    fields = ["message_id", "emoji", "count", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class EventInline(TabularInline):
    model = PostEvent
    fields = ["kind", "at", "data"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0


@admin.register(Post)
class PostAdmin(ModelAdmin):
    list_display = [
        "__str__",
        "destination",
        "format",
        "status",
        "scheduled_at",
        "published_at",
        "publish_attempts",
        "updated_at",
    ]
    list_filter = ["status", "format", "language", "media_kind", "destination"]
    search_fields = ["text", "keywords"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "status",
        "scheduled_at",
        "published_at",
        "channel_message_ids",
        "publish_attempts",
        "publish_round_start",
        "publish_claimed_at",
        "next_retry_at",
        "last_error",
        "version",
        "archived_at",
        "created_at",
        "updated_at",
    ]
    inlines = [TrackedLinkInline, ReactionsInline, EventInline]
    actions = ["publish_now"]

    def has_change_permission(self, request: HttpRequest, obj: Post | None = None) -> bool:
        # posts change through the services (the studio, the actions here), which keep the states right
        return obj is None and super().has_change_permission(request, obj)

    @action(description="Publish now (or retry)")
    def publish_now(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        queued = 0
        for post in queryset:
            try:
                services.post_publish_now(post=post)
                queued += 1
            except HeraldError as exc:
                self.message_user(request, f"Post #{post.pk}: {exc.message}", messages.WARNING)
        if queued:
            self.message_user(request, f"{queued} post(s) queued for publishing.", messages.SUCCESS)


@admin.register(TrackedLink)
class TrackedLinkAdmin(ReadOnlyModelAdmin):
    list_display = ["code", "post", "text", "url", "clicks", "created_at"]
    search_fields = ["code", "url"]


@admin.register(PostEvent)
class PostEventAdmin(ReadOnlyModelAdmin):
    list_display = ["kind", "post", "at"]
    list_filter = ["kind"]
    date_hierarchy = "at"
