"""The studio in the admin: studios (settings checked with Telegram on save, like the API), their editors, and
the read-only audit log and editor sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin, TabularInline

from herald.core.admin import ReadOnlyModelAdmin
from herald.core.errors import HeraldError
from herald.studio.models import AuditEntry, EditorSession, Studio, StudioEditor
from herald.studio.services import studio_settings_prepare


class StudioForm(forms.ModelForm):
    """Saving checks the channel with Telegram (the bot must be able to post there), as the API does."""

    class Meta:
        model = Studio
        fields = ["channel", "language", "timezone", "default_format", "interface_language"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None or self.errors:
            return data
        bot = self.instance.bot
        block = {key: data[key] for key in ("language", "timezone", "default_format", "interface_language")}
        if data.get("channel") != self.instance.channel:
            block["channel"] = data.get("channel")
        try:
            self.apply_settings: Callable[[], None] | None = studio_settings_prepare(bot, block)
        except HeraldError as exc:
            field = str(exc.details.get("field", "")).removeprefix("studio.")
            self.add_error(field if field in self.fields else None, exc.message)
        return data


class EditorInline(TabularInline):
    model = StudioEditor
    fields = ["telegram_user_id", "is_admin", "blocked_until"]
    extra = 1


@admin.register(Studio)
class StudioAdmin(ModelAdmin):
    form = StudioForm
    list_display = ["bot", "channel", "language", "timezone", "default_format", "created_at"]
    search_fields = ["channel", "bot__name", "bot__username"]
    inlines = [EditorInline]

    readonly_fields = ["bot"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a studio starts from its bot: PATCH /api/bots/{id} with kind "studio"

    def save_model(self, request: HttpRequest, obj: Studio, form: Any, change: bool) -> None:
        apply = getattr(form, "apply_settings", None)
        if apply is not None:
            apply()
        obj.refresh_from_db()


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    list_display = ["at", "studio", "telegram_user_id", "action", "post_id"]
    list_filter = ["action", "studio"]
    search_fields = ["telegram_user_id", "action"]
    date_hierarchy = "at"


@admin.register(EditorSession)
class EditorSessionAdmin(ReadOnlyModelAdmin):
    list_display = ["studio", "telegram_user_id", "state", "post", "updated_at"]
    list_filter = ["state", "studio"]
