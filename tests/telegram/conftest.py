"""Fixtures for every Telegram test: the sandbox's bots, users, base URL and limit switch."""

from tests.telegram.gateway_fixtures import *  # noqa: F403
from tests.telegram.sandbox.fixtures import *  # noqa: F403
