"""Unfold admin: deliveries (read-only log), contacts, and the sandbox SMS log."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from herald.core.admin import ReadOnlyModelAdmin
from herald.notify.models import Contact, Delivery, SandboxSms


@admin.register(Contact)
class ContactAdmin(ModelAdmin):
    list_display = ("user", "phone", "telegram_chat_id")
    search_fields = ("user__username", "phone")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "user", "channel", "recipient", "subject", "status", "attempts")
    list_filter = ("channel", "status")
    search_fields = ("recipient", "dedupe_key")


@admin.register(SandboxSms)
class SandboxSmsAdmin(ModelAdmin):
    list_display = ("sent_at", "to", "text")
    search_fields = ("to",)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
