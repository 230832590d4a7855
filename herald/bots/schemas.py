"""Request and response bodies of the bots API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from herald.core.schemas import Text


class BotIn(Schema):
    name: Text = Field(max_length=100)
    token: Text = Field(min_length=1, max_length=200, description="The token BotFather gave; never returned.")


class BotPatch(Schema):
    name: Text | None = Field(default=None, max_length=100)
    token: Text | None = Field(default=None, min_length=1, max_length=200)
    is_active: bool | None = None
    kind: Literal["flows", "studio", "alerts"] | None = None
    studio: dict[str, Any] | None = Field(
        default=None,
        description=(
            'A studio bot\'s settings: {"channel": "@name or -100… id", "editors": [user ids], "admins": '
            '[user ids], "language": "hy|ru|en", "timezone": "Asia/Yerevan", "default_format": '
            '"selling|collection|info|promo", "interface_language": "en|hy|ru"}; the bot must be able to '
            "post in the channel."
        ),
    )


class BotOut(Schema):
    id: uuid.UUID
    name: str
    username: str
    kind: str
    masked_token: str
    user_count: int
    request_count: int
    is_webhook_set: bool
    webhook_url: str
    is_active: bool
    settings: dict[str, Any] | None = Field(default=None, description="The settings of the bot's kind.")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_settings(bot: Any) -> dict[str, Any] | None:
        from herald.bots.handlers import settings_describe

        return settings_describe(bot)


class WebhookInfoOut(Schema):
    url: str = ""
    has_custom_certificate: bool = False
    pending_update_count: int = 0
    last_error_date: int | None = None
    last_error_message: str | None = None
    max_connections: int | None = None
    allowed_updates: list[str] | None = None


class DayCountOut(Schema):
    day: str
    incoming: int
    outgoing: int


class FlowStatsOut(Schema):
    flow_id: int
    name: str
    runs: int
    completions: int


class StatsOut(Schema):
    users: int
    user_count: int
    request_count: int
    blocked_users: int
    active_users: dict[str, int]
    messages_per_day: list[DayCountOut]
    flows: list[FlowStatsOut]


class FlowIn(Schema):
    name: Text = Field(min_length=1, max_length=100)
    flow_data: dict[str, Any] = Field(description="See docs/flows.md.")
    trigger_command: Text = Field(default="", max_length=33)
    is_default: bool = False
    is_active: bool = True


class FlowOut(Schema):
    id: int
    name: str
    flow_data: dict[str, Any]
    trigger_command: str
    is_default: bool
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class FlowResponseOut(Schema):
    run_id: int
    chat_id: int
    username: str
    first_name: str
    started_at: str
    completed: bool
    answers: dict[str, Any]


class BroadcastIn(Schema):
    text: Text = Field(min_length=1, max_length=4096)
    photo: Text | None = Field(
        default=None, max_length=500, description="A Telegram file id or an https URL."
    )


class BroadcastOut(Schema):
    id: int
    status: str
    recipients: int
    pending: int
    sent: int
    failed: int
    created_at: dt.datetime


class WebhookAck(Schema):
    ok: Literal[True] = True
    duplicate: bool = False
