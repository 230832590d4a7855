"""The studio in the admin: studios (settings checked with Telegram on save, like the API), their editors, and
the read-only audit log and editor sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import TabularInline

from herald.bots.models import BotKind, TelegramBot
from herald.bots.services import bot_update
from herald.core.admin import ReadOnlyModelAdmin, TelegramCheckingModelAdmin
from herald.core.errors import HeraldError
from herald.studio.models import AuditEntry, EditorSession, Studio, StudioEditor
from herald.studio.services import studio_settings_prepare


def _show_refusal(form: forms.ModelForm, exc: HeraldError) -> None:
    """The settings' refusal (``studio.channel: …``) on the form field it names, or on the whole form."""
    field = str(exc.details.get("field", "")).removeprefix("studio.")
    form.add_error(field if field in form.fields else None, exc.message)


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
            _show_refusal(self, exc)
        return data


def _user_ids(text: str) -> list[int]:
    words = text.replace(",", " ").split()
    bad = [word for word in words if not word.lstrip("-").isdigit()]
    if bad:
        raise forms.ValidationError(f"Telegram user ids are numbers; not {', '.join(bad[:3])}.")
    return [int(word) for word in words]


class StudioCreationForm(forms.ModelForm):
    """Turns a hosted bot into a studio, exactly as ``PATCH /api/bots/{id}`` with ``kind: studio`` does:
    the channel is checked with Telegram before anything is saved."""

    bot = forms.ModelChoiceField(
        queryset=TelegramBot.objects.exclude(kind=BotKind.STUDIO).order_by("name"),
        help_text="A hosted bot that is an administrator of the channel.",
    )
    editors = forms.CharField(
        required=False, help_text="Telegram user ids of the editors, separated by commas or spaces."
    )
    admins = forms.CharField(
        help_text="Telegram user ids of the editors who may also change the settings (at least one)."
    )

    class Meta:
        model = Studio
        fields = ["bot", "channel", "language", "timezone", "default_format", "interface_language"]

    def clean_editors(self) -> list[int]:
        return _user_ids(self.cleaned_data.get("editors") or "")

    def clean_admins(self) -> list[int]:
        return _user_ids(self.cleaned_data.get("admins") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        self.studio_block = {
            "channel": data["channel"],
            "editors": sorted(set(data["editors"]) | set(data["admins"])),
            "admins": data["admins"],
            **{key: data[key] for key in ("language", "timezone", "default_format", "interface_language")},
        }
        try:
            studio_settings_prepare(data["bot"], self.studio_block)  # checks only; saving comes after
        except HeraldError as exc:
            _show_refusal(self, exc)
        return data


class EditorInline(TabularInline):
    model = StudioEditor
    fields = ["telegram_user_id", "is_admin", "blocked_until"]
    extra = 1


@admin.register(Studio)
class StudioAdmin(TelegramCheckingModelAdmin):
    form = StudioForm
    list_display = ["bot", "channel", "language", "timezone", "default_format", "created_at"]
    search_fields = ["channel", "bot__name", "bot__username"]

    add_form = StudioCreationForm

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else ["bot"]

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [] if obj is None else [EditorInline]  # on creation the editors are in the form

    def save_model(self, request: HttpRequest, obj: Studio, form: Any, change: bool) -> None:
        if not change:
            bot = form.cleaned_data["bot"]
            bot_update(bot=bot, kind=BotKind.STUDIO, kind_settings={"studio": form.studio_block})
            obj.pk = Studio.objects.values_list("pk", flat=True).get(bot=bot)
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
