"""Unfold admin for users, groups (roles), API keys (shown once on creation) and refresh-token families."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from herald.accounts import services
from herald.accounts.models import ApiKey, RefreshToken, TokenFamily, User


class HeraldUserCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class HeraldUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class HeraldAdminPasswordChangeForm(AdminPasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=commit)
        if commit:  # a new password ends the user's API logins too, not only their sessions
            services.user_sessions_revoke(user=user, reason="password_changed")
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin, ModelAdmin):
    form = HeraldUserChangeForm
    add_form = HeraldUserCreationForm
    change_password_form = HeraldAdminPasswordChangeForm
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    search_fields = ("username", "email", "first_name", "last_name")
    actions = ["log_out_everywhere"]

    @admin.action(description="Log out everywhere (revoke every API login)")
    def log_out_everywhere(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        revoked = sum(services.user_sessions_revoke(user=user, reason="admin") for user in queryset)
        self.message_user(request, f"Revoked {revoked} login(s).", messages.SUCCESS)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin, ModelAdmin):
    pass


@admin.register(ApiKey)
class ApiKeyAdmin(ModelAdmin):
    list_display = (
        "name",
        "masked_key",
        "owner",
        "scopes",
        "is_active",
        "created_at",
        "last_used_at",
        "expires_at",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "prefix", "owner__username", "owner__email")
    autocomplete_fields = ("owner",)
    fields = (
        "name",
        "owner",
        "scopes",
        "is_active",
        "expires_at",
        "masked_key",
        "created_at",
        "last_used_at",
    )
    readonly_fields = ("masked_key", "created_at", "last_used_at")
    actions = ["deactivate"]

    @admin.display(description="key")
    def masked_key(self, obj: ApiKey) -> str:
        return f"hk_{obj.prefix}_…" if obj.prefix else "(generated on save)"

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        plaintext = services.api_key_assign_secret(api_key=obj)
        # The only time the key exists in clear: it is not stored, so it cannot be shown again.
        self.message_user(
            request,
            f"API key “{obj.name}” created: {plaintext} — copy it now, it will not be shown again.",
            messages.WARNING,
        )

    @admin.action(description="Deactivate selected keys")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            services.api_key_deactivate(api_key=api_key)
        self.message_user(request, f"Deactivated {queryset.count()} key(s).", messages.SUCCESS)


class RefreshTokenInline(TabularInline):
    model = RefreshToken
    fk_name = "family"
    fields = ("jti", "issued_at", "expires_at", "used_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TokenFamily)
class TokenFamilyAdmin(ModelAdmin):
    list_display = ("id", "user", "created_at", "revoked_at", "revoked_reason", "client_ip")
    list_filter = ("revoked_reason",)
    search_fields = ("user__username", "user__email", "id")
    readonly_fields = ("id", "user", "created_at", "revoked_at", "revoked_reason", "client_ip", "user_agent")
    inlines = [RefreshTokenInline]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke selected logins")
    def revoke(self, request: HttpRequest, queryset: QuerySet[TokenFamily]) -> None:
        count = sum(services.token_family_revoke(family_id=f.id, reason="admin") for f in queryset)
        self.message_user(request, f"Revoked {count} login(s).", messages.SUCCESS)
