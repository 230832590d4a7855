"""Admin pieces shared by every app."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect
from unfold.admin import ModelAdmin


class ReadOnlyModelAdmin(ModelAdmin):
    """For records that only services write (ledgers, logs, sandbox state): the admin shows them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TelegramCheckingModelAdmin(ModelAdmin):
    """For forms that ask Telegram on save (a token, a channel): the add and change views run without the
    one transaction Django's admin wraps them in. A transaction held while waiting for Telegram would keep
    the sandbox, which writes to the same SQLite file, from answering (a timeout instead of its answer);
    the services that save write in transactions of their own."""

    @method_decorator(csrf_protect)
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        return self._changeform_view(request, object_id, form_url, extra_context)
