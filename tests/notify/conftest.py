"""Notify tests reach Telegram through the gateway and the sandbox, with the Telegram tests' fixtures."""

from tests.telegram.gateway_fixtures import *  # noqa: F403
from tests.telegram.sandbox.fixtures import *  # noqa: F403
