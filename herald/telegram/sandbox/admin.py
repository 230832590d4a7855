"""Read-only admin pages for the sandbox's bots, people, chats, messages, updates, files and calls."""

from __future__ import annotations

from django.contrib import admin

from herald.core.admin import ReadOnlyModelAdmin
from herald.telegram.sandbox.models import (
    Bot,
    BotChat,
    Call,
    CallbackQuery,
    Chat,
    File,
    Message,
    Update,
    User,
)


@admin.register(Bot)
class BotAdmin(ReadOnlyModelAdmin):
    list_display = ("username", "id", "first_name", "webhook_url", "last_error_date", "created_at")
    search_fields = ("username", "first_name")


@admin.register(User)
class UserAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "first_name", "username", "language_code", "created_at")
    search_fields = ("first_name", "username")


@admin.register(Chat)
class ChatAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "type", "title", "username", "last_message_id")
    list_filter = ("type",)
    search_fields = ("title", "username")


@admin.register(BotChat)
class BotChatAdmin(ReadOnlyModelAdmin):
    list_display = ("bot", "chat_id", "status", "last_message_id")
    list_filter = ("status",)


@admin.register(Message)
class MessageAdmin(ReadOnlyModelAdmin):
    list_display = (
        "chat_id",
        "message_id",
        "bot",
        "from_bot",
        "text",
        "media_type",
        "edited",
        "deleted",
        "date",
    )
    list_filter = ("from_bot", "media_type", "edited", "deleted")
    search_fields = ("text", "caption")
    list_select_related = ("bot",)


@admin.register(Update)
class UpdateAdmin(ReadOnlyModelAdmin):
    list_display = ("bot", "update_id", "kind", "state", "attempts", "next_attempt_at", "last_error")
    list_filter = ("state", "kind")
    list_select_related = ("bot",)


@admin.register(File)
class FileAdmin(ReadOnlyModelAdmin):
    list_display = ("file_unique_id", "kind", "file_name", "mime_type", "file_size", "created_at")
    list_filter = ("kind",)


@admin.register(CallbackQuery)
class CallbackQueryAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "bot", "user", "data", "answered", "answer_text", "created_at")


@admin.register(Call)
class CallAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "bot", "method", "status", "description")
    list_filter = ("method", "status")
    list_select_related = ("bot",)
