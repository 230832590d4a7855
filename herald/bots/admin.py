"""The Bot Maker admin: bots (token masked, webhook actions, stats), users, flows, messages."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display

from herald.bots import selectors, services
from herald.bots.flows import FlowValidationError, parse_flow
from herald.bots.models import BotFlow, BotMessage, BotUser, Broadcast, FlowAnswer, FlowRun, TelegramBot
from herald.core.admin import ReadOnlyModelAdmin, TelegramCheckingModelAdmin
from herald.core.errors import HeraldError

# The start page shows every bot's figures above the app list (see herald/bots/dashboard.py).
admin.site.index_template = "admin/herald_index.html"


class TelegramBotForm(forms.ModelForm):
    new_token = forms.CharField(
        required=False,
        label="Token",
        help_text="The token from BotFather: checked with Telegram on save, stored encrypted, never shown.",
        widget=forms.PasswordInput(render_value=False),
    )

    class Meta:
        model = TelegramBot
        fields = ["name", "kind", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        token = (data.get("new_token") or "").strip()
        if self.instance.pk is None and not token:
            self.add_error("new_token", "A new bot needs its token.")
        elif token:
            try:
                services.token_check(token=token, bot=self.instance if self.instance.pk else None)
            except HeraldError as exc:
                self.add_error("new_token", exc.message)
        return data


class FlowInline(TabularInline):
    model = BotFlow
    fields = ["name", "trigger_command", "is_default", "is_active"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(TelegramBot)
class TelegramBotAdmin(TelegramCheckingModelAdmin):
    form = TelegramBotForm
    list_display = [
        "name",
        "username",
        "kind",
        "user_count",
        "request_count",
        "webhook",
        "is_active",
        "created_at",
    ]
    list_filter = ["kind", "is_active", "is_webhook_set"]
    search_fields = ["name", "username"]
    readonly_fields = [
        "username",
        "masked_token",
        "user_count",
        "request_count",
        "webhook_url",
        "is_webhook_set",
        "statistics",
    ]
    inlines = [FlowInline]
    actions = ["set_webhook", "remove_webhook"]

    def get_fieldsets(self, request: HttpRequest, obj: TelegramBot | None = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["name", "new_token", "kind", "is_active"]})]
        return [
            (None, {"fields": ["name", "username", "masked_token", "new_token", "kind", "is_active"]}),
            ("Webhook", {"fields": ["is_webhook_set", "webhook_url"]}),
            ("Statistics", {"fields": ["user_count", "request_count", "statistics"]}),
        ]

    @display(description="Webhook", boolean=True)
    def webhook(self, obj: TelegramBot) -> bool:
        return obj.is_webhook_set

    @display(description="Last 30 days")
    def statistics(self, obj: TelegramBot) -> str:
        stats = selectors.bot_stats(bot=obj)
        rows = [
            ("Users", stats["users"]),
            ("Blocked the bot", stats["blocked_users"]),
            ("Active today / 7 days / 30 days", "{1d} / {7d} / {30d}".format(**stats["active_users"])),
            (
                "Messages in / out",
                "{} / {}".format(
                    sum(d["incoming"] for d in stats["messages_per_day"]),
                    sum(d["outgoing"] for d in stats["messages_per_day"]),
                ),
            ),
            *(
                (f"Flow “{f['name']}”: runs / completed", f"{f['runs']} / {f['completions']}")
                for f in stats["flows"]
            ),
        ]
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    def save_model(self, request: HttpRequest, obj: TelegramBot, form: forms.ModelForm, change: bool) -> None:
        # the form already checked the token with Telegram (see TelegramBotForm.clean)
        token = (form.cleaned_data.get("new_token") or "").strip()
        if change:
            services.bot_update(bot=obj, name=obj.name, is_active=obj.is_active, token=token or None)
        else:
            created = services.bot_create(name=obj.name, token=token, kind=obj.kind)
            obj.pk = created.pk
            obj.refresh_from_db()

    @action(description="Set webhook")
    def set_webhook(self, request: HttpRequest, queryset: QuerySet[TelegramBot]) -> None:
        for bot in queryset:
            try:
                services.bot_webhook_set(bot=bot)
                messages.success(request, f"{bot}: webhook set to {bot.webhook_url}")
            except HeraldError as exc:
                messages.error(request, f"{bot}: {exc.message}")

    @action(description="Remove webhook")
    def remove_webhook(self, request: HttpRequest, queryset: QuerySet[TelegramBot]) -> None:
        for bot in queryset:
            try:
                services.bot_webhook_delete(bot=bot)
                messages.success(request, f"{bot}: webhook removed")
            except HeraldError as exc:
                messages.error(request, f"{bot}: {exc.message}")


class BotFlowForm(forms.ModelForm):
    flow_data = forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 24, "style": "font-family: monospace"}),
        help_text="A simple, menu or multi-step flow: see docs/flows.md.",
    )

    class Meta:
        model = BotFlow
        fields = ["bot", "name", "trigger_command", "is_default", "is_active", "flow_data"]

    def clean_flow_data(self) -> Any:
        data = self.cleaned_data["flow_data"]
        try:
            parse_flow(data)
        except FlowValidationError as exc:
            raise forms.ValidationError(
                [f"{path or 'flow'}: {message}" for path, message in exc.errors]
            ) from exc
        return data


@admin.register(BotFlow)
class BotFlowAdmin(ModelAdmin):
    form = BotFlowForm
    list_display = ["name", "bot", "trigger_command", "is_default", "is_active", "updated_at"]
    list_filter = ["is_default", "is_active", "bot"]
    search_fields = ["name", "trigger_command"]

    def save_model(self, request: HttpRequest, obj: BotFlow, form: forms.ModelForm, change: bool) -> None:
        services.flow_save(
            bot=obj.bot,
            flow=obj if change else None,
            name=obj.name,
            flow_data=obj.flow_data,
            trigger_command=obj.trigger_command,
            is_default=obj.is_default,
            is_active=obj.is_active,
        )


@admin.register(BotUser)
class BotUserAdmin(ModelAdmin):
    list_display = ["__str__", "bot", "first_name", "language", "is_blocked", "last_interaction"]
    list_filter = ["is_blocked", "is_active", "bot"]
    search_fields = ["username", "first_name", "last_name", "chat_id"]
    readonly_fields = ["bot", "chat_id", "first_interaction", "last_interaction"]


@admin.register(BotMessage)
class BotMessageAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "bot", "user", "direction", "message_type", "short_text"]
    list_filter = ["direction", "message_type", "bot"]
    search_fields = ["text"]

    @display(description="Text")
    def short_text(self, obj: BotMessage) -> str:
        return obj.text[:80]


@admin.register(FlowRun)
class FlowRunAdmin(ReadOnlyModelAdmin):
    list_display = ["started_at", "flow", "user", "completed", "finished_at"]
    list_filter = ["completed", "flow"]


@admin.register(FlowAnswer)
class FlowAnswerAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "flow", "user", "key", "answer"]
    list_filter = ["flow"]

    @display(description="Value")
    def answer(self, obj: FlowAnswer) -> str:
        return json.dumps(obj.value, ensure_ascii=False)[:80]


@admin.register(Broadcast)
class BroadcastAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "bot", "recipients", "progress", "short_text"]

    @display(description="Pending / sent / failed")
    def progress(self, obj: Broadcast) -> str:
        p = selectors.broadcast_progress(broadcast=obj)
        return f"{p['pending']} / {p['sent']} / {p['failed']}"

    @display(description="Text")
    def short_text(self, obj: Broadcast) -> str:
        return obj.text[:80]
