"""Sandbox routes: the Bot API (``bot<token>/<method>``), file downloads, control API and chat page."""

from __future__ import annotations

from django.urls import path, re_path

from herald.telegram.sandbox import views

app_name = "sandbox"

urlpatterns = [
    path("", views.chat_page, name="chat"),
    path("bot<str:token>/<str:method>", views.bot_api, name="bot-api"),
    re_path(r"^bot[^/]*(?:/.*)?$", views.bot_api_not_found),
    path("file/bot<str:token>/<path:file_path>", views.file_download, name="file"),
    path("api/bots", views.bots, name="api-bots"),
    path("api/users", views.users, name="api-users"),
    path("api/channels", views.channels, name="api-channels"),
    path("api/groups", views.groups, name="api-groups"),
    path("api/send", views.send, name="api-send"),
    path("api/press", views.press, name="api-press"),
    path("api/callbacks/<str:callback_query_id>", views.callback_answer, name="api-callback-answer"),
    path("api/react", views.react, name="api-react"),
    path("api/members", views.members, name="api-members"),
    path("api/redeliver", views.redeliver, name="api-redeliver"),
    path("api/migrate", views.migrate, name="api-migrate"),
    path("api/chats/<str:chat_id>/messages", views.chat_messages, name="api-chat-messages"),
    path("api/calls", views.calls, name="api-calls"),
    path("api/limits", views.limits, name="api-limits"),
    path("api/files/<str:file_unique_id>", views.file_bytes, name="api-file"),
    re_path(r"^api/(?P<rest>.*)$", views.control_not_found),
    re_path(r"^(?P<rest>.+)$", views.control_not_found),
]
