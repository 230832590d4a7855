"""Unfold admin: offers, accounts, the ledger (read-only), transactions with their attempts and holds,
partners (the secret is shown once, on creation), subscriptions, callbacks and expiry notices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.forms import ModelForm
from django.http import HttpRequest
from unfold.admin import ModelAdmin, TabularInline

from herald.core.admin import ReadOnlyModelAdmin
from herald.wallet import services
from herald.wallet.cache import offers_cache_clear
from herald.wallet.models import (
    Account,
    ActivationAttempt,
    ExpiryNotice,
    LedgerEntry,
    Offer,
    Partner,
    PartnerCallback,
    PartnerCallbackAttempt,
    Subscription,
    Transaction,
)


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Offer)
class OfferAdmin(ModelAdmin):
    list_display = ("name", "price", "currency", "validity_days", "external_code", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "external_code")

    def save_model(self, request: HttpRequest, obj: Offer, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        offers_cache_clear()  # the public offer list shows the change at once


@admin.register(Account)
class AccountAdmin(ReadOnlyModelAdmin):
    list_display = ("user", "balance", "held", "currency", "updated_at")
    search_fields = ("user__username", "user__email")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "account", "kind", "amount", "balance_after", "transaction")
    list_filter = ("kind",)
    search_fields = ("account__user__username",)


class ActivationAttemptInline(ReadOnlyInline):
    model = ActivationAttempt
    fields = ("number", "started_at", "duration_ms", "outcome", "error")
    readonly_fields = fields


class PartnerCallbackInline(ReadOnlyInline):
    model = PartnerCallback
    fields = ("status", "state", "attempts", "last_error", "delivered_at")
    readonly_fields = fields


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "kind", "status", "amount", "currency", "account", "reference", "attempts")
    list_filter = ("status", "kind")
    search_fields = ("id", "reference", "external_reference", "account__user__username")
    inlines = [ActivationAttemptInline, PartnerCallbackInline]


@admin.register(Subscription)
class SubscriptionAdmin(ModelAdmin):
    list_display = ("user", "offer", "activated_at", "expires_at", "auto_renew")
    list_filter = ("auto_renew",)
    fields = ("auto_renew",)
    search_fields = ("user__username",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class PartnerForm(ModelForm):
    callback_url = forms.URLField(required=False, max_length=500, assume_scheme="https")

    class Meta:
        model = Partner
        fields = ("name", "callback_url", "is_active")


@admin.register(Partner)
class PartnerAdmin(ModelAdmin):
    form = PartnerForm
    list_display = ("name", "key", "callback_url", "is_active", "created_at")
    readonly_fields = ("key",)

    def save_model(self, request: HttpRequest, obj: Partner, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        partner, secret = services.partner_create(name=obj.name, callback_url=obj.callback_url)
        obj.pk, obj.key, obj.secret_encrypted = partner.pk, partner.key, partner.secret_encrypted
        obj._state.adding = False
        messages.warning(
            request,
            f"Partner key {partner.key}, secret {secret}: copy the secret now, it is not shown again.",
        )


class PartnerCallbackAttemptInline(ReadOnlyInline):
    model = PartnerCallbackAttempt
    fields = ("number", "created_at", "status_code", "error", "duration_ms")
    readonly_fields = fields


@admin.register(PartnerCallback)
class PartnerCallbackAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "partner", "transaction", "status", "state", "attempts")
    list_filter = ("state", "status")
    inlines = [PartnerCallbackAttemptInline]


@admin.register(ExpiryNotice)
class ExpiryNoticeAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "subscription", "expires_at", "action", "detail")
    list_filter = ("action",)
