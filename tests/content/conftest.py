"""Content tests: a studio bot hosted by Herald, posting to a sandbox channel where it is an administrator."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from herald.bots.models import BotKind, TelegramBot
from herald.content.models import Destination
from herald.content.services import destination_for_telegram_chat
from herald.core.crypto import token_fingerprint
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_bot, sandbox_channel

EDITOR = 7001


@pytest.fixture
def studio_bot(db: None) -> SandboxBot:
    return sandbox_bot("shopping_studio_bot", "Time to Shopping studio")


@pytest.fixture
def hosted_bot(studio_bot: SandboxBot) -> TelegramBot:
    """The bot as Herald hosts it (what ``POST /api/bots`` makes after getMe)."""
    return TelegramBot.objects.create(
        name="Time to Shopping",
        token=studio_bot.token,
        token_fingerprint=token_fingerprint(studio_bot.token),
        telegram_id=studio_bot.id,
        username=studio_bot.username,
        kind=BotKind.STUDIO,
    )


@pytest.fixture
def channel_id(studio_bot: SandboxBot) -> int:
    return sandbox_channel("Time to Shopping", admins=[studio_bot.username], username="timetoshopping")


@pytest.fixture
def destination(hosted_bot: TelegramBot, channel_id: int) -> Destination:
    return destination_for_telegram_chat(bot=hosted_bot, chat_id=channel_id, title="Time to Shopping")


@pytest.fixture
def publishing(gateway: str, eager_tasks: None, settings: SettingsWrapper) -> str:
    """The gateway talks to the live sandbox, tasks run inline, and tracked links point at the live server."""
    settings.HERALD_PUBLIC_URL = gateway
    return gateway
