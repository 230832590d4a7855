"""The admin's start page: each hosted bot's users, requests, today's messages, blocked users and queued
sends (Unfold's ``DASHBOARD_CALLBACK``, rendered by ``admin/herald_index.html``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from herald.bots.selectors import bots_overview

COLUMNS = [
    "Bot",
    "Users",
    "Requests",
    "Messages in today",
    "Messages out today",
    "Blocked users",
    "Outbox backlog",
]
_KEYS = ["users", "requests", "messages_in_today", "messages_out_today", "blocked_users", "outbox_backlog"]


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    if not request.user.has_perm("bots.view_telegrambot"):
        return context
    rows = bots_overview()
    totals = [sum(row[key] for row in rows) for key in _KEYS]
    context["bots_dashboard"] = {
        "rows": [
            {
                "name": row["name"] + (f" (@{row['username']})" if row["username"] else ""),
                "url": reverse("admin:bots_telegrambot_change", args=[row["id"]]),
                "is_active": row["is_active"],
                "values": [row[key] for key in _KEYS],
            }
            for row in rows
        ],
        "columns": COLUMNS,
        "totals": totals,
    }
    return context
