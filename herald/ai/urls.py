"""URLs of the AI service's sandbox twin (mounted at /sandbox/ai/ when the sandbox is on)."""

from __future__ import annotations

from django.urls import path

from herald.ai import sandbox

app_name = "ai_sandbox"

urlpatterns = [
    path("control", sandbox.control, name="control"),
    path("v1/models", sandbox.models, name="models"),
    path("v1/chat/completions", sandbox.chat_completions, name="chat_completions"),
]
