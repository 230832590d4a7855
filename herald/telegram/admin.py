"""Admin for the outbox: rows are read-only (the gateway writes them); failed ones can be retried."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from herald.telegram.models import OutboundMessage
from herald.telegram.services import outbox_retry


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ModelAdmin):
    list_display = (
        "id",
        "method",
        "chat_id",
        "status",
        "attempts",
        "error_code",
        "telegram_message_id",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "method", "error_code")
    search_fields = ("chat_id", "reference", "dedupe_key", "bot_fingerprint")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    exclude = ("bot_token",)  # a secret: never shown
    actions = ("retry_failed",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in OutboundMessage._meta.fields if field.name != "bot_token"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Retry the selected failed messages")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> None:
        count = outbox_retry(message_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} failed message(s) queued again.", messages.SUCCESS)
