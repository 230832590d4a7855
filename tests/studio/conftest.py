"""Studio tests: a studio bot hosted through the API, its channel in the sandbox, editors who talk to it in
their sandbox chats. Telegram delivers to the webhook; tasks run inline; the outbox is drained."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from herald.accounts.models import User
from herald.telegram.sandbox import services as sandbox
from tests.ai.conftest import ai_sandbox  # noqa: F401  (the AI twin, for the manual-mode test)
from tests.bots.conftest import Api
from tests.telegram.gateway_fixtures import drain_outbox, tiny_png
from tests.telegram.sandbox.helpers import (
    SandboxBot,
    deliver_pending_updates,
    sandbox_bot,
    sandbox_channel,
    sandbox_messages,
    sandbox_press,
    sandbox_send,
    sandbox_user,
)


def settle() -> None:
    """Telegram delivers what is due, the worker answers, the outbox is sent (answers cause answers)."""
    for _ in range(3):
        deliver_pending_updates(ignore_backoff=True)
        drain_outbox()


@dataclass
class EditorChat:
    """One person's private chat with the studio bot."""

    bot: SandboxBot
    user_id: int

    def write(self, text: str) -> None:
        sandbox_send(self.bot, self.user_id, text)
        settle()

    def upload(
        self, kind: str, content: bytes = b"", name: str = "file.png", size: int | None = None
    ) -> None:
        data = content or tiny_png()
        sandbox.sandbox_user_send(
            bot=sandbox.sandbox_bot_get(bot=self.bot.username),
            from_user=sandbox.sandbox_user_get(user_id=self.user_id),
            upload=SimpleUploadedFile(name, data, content_type="image/png"),
            media_type=kind,
        )
        settle()

    def messages(self) -> list[dict[str, Any]]:
        return [m for m in sandbox_messages(self.user_id, self.bot) if m["from_bot"] and not m["deleted"]]

    def last(self) -> dict[str, Any]:
        return self.messages()[-1]

    def texts(self) -> list[str]:
        return [m["text"] or m["caption"] for m in self.messages()]

    def buttons(self, message: dict[str, Any] | None = None) -> dict[str, str]:
        """Label -> callback data of the buttons under ``message`` (the last message with buttons)."""
        if message is None:
            message = next(m for m in reversed(self.messages()) if m["reply_markup"])
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        return {b["text"]: b.get("callback_data", "") for row in rows for b in row if b.get("callback_data")}

    def press(self, label: str, message: dict[str, Any] | None = None) -> None:
        """Press the button whose label starts with ``label`` under the last message with buttons."""
        if message is None:
            message = next(m for m in reversed(self.messages()) if m["reply_markup"])
        buttons = self.buttons(message)
        matches = [data for text, data in buttons.items() if text.startswith(label)]
        assert matches, f"no button {label!r} in {list(buttons)}"
        self.press_data(message["message_id"], matches[0])

    def press_data(self, message_id: int, data: str) -> None:
        sandbox_press(self.bot, self.user_id, message_id, data)
        settle()


@dataclass
class StudioWorld:
    bot: SandboxBot
    bot_id: str
    channel_id: int
    admin: EditorChat
    editor: EditorChat
    outsider: EditorChat
    api: Api

    def channel(self) -> list[dict[str, Any]]:
        return [m for m in sandbox_messages(self.channel_id) if not m["deleted"]]


@pytest.fixture
def telegram(gateway: str, eager_tasks: None, settings: SettingsWrapper) -> str:
    settings.HERALD_PUBLIC_URL = gateway
    settings.AI_API_KEY = ""  # the built-in template writer, unless a test points at the AI twin
    settings.STUDIO_RATE_BURST = (
        1000  # an editor in a test clicks faster than a person; one test checks the limit
    )
    return gateway


@pytest.fixture
def api(staff_user: User, bearer_client: Callable[[User], Client]) -> Api:
    return Api(bearer_client(staff_user))


@pytest.fixture
def world(telegram: str, api: Api) -> StudioWorld:
    bot = sandbox_bot("shopping_studio_bot", "Time to Shopping studio")
    channel_id = sandbox_channel("Time to Shopping", admins=[bot.username], username="timetoshopping")
    ann = sandbox_user("Ann", username="ann")
    bob = sandbox_user("Bob", username="bob")
    eve = sandbox_user("Eve", username="eve")
    bot_id = api.post("/api/bots", {"name": "Time to Shopping", "token": bot.token}).json()["id"]
    answer = api.patch(
        f"/api/bots/{bot_id}",
        {
            "kind": "studio",
            "studio": {
                "channel": "@timetoshopping",
                "editors": [ann, bob],
                "admins": [ann],
                "language": "hy",
                "timezone": "Asia/Yerevan",
            },
        },
    )
    assert answer.status_code == 200, answer.content
    assert api.post(f"/api/bots/{bot_id}/webhook").status_code == 200
    settle()  # the channel's my_chat_member update
    return StudioWorld(
        bot=bot,
        bot_id=bot_id,
        channel_id=channel_id,
        admin=EditorChat(bot, ann),
        editor=EditorChat(bot, bob),
        outsider=EditorChat(bot, eve),
        api=api,
    )
