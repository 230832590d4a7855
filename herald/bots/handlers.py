"""Per-kind hooks: a bot kind other than ``flows`` (a studio, an alerts bot) handles its own updates and
its own settings block of ``PATCH /api/bots/{id}``. The app that owns the kind registers here in its
``AppConfig.ready``, so this app never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from herald.bots.models import InboundUpdate, TelegramBot

# Called inside the transaction that claims the update: its writes (outbox rows included) commit with the
# claim, so an update has effect once; updates of one chat reach it in update_id order.
UpdateHandler = Callable[[InboundUpdate], None]
# Checks a settings block (may call Telegram; writes nothing) and returns the function that writes it, which
# runs in the transaction that saves the bot. ``block`` is None when only the kind changed.
SettingsApply = Callable[[], None]
SettingsHook = Callable[[TelegramBot, dict[str, Any] | None], SettingsApply]
# What the API shows of a kind's settings (``GET /api/bots/{id}``).
SettingsDescribe = Callable[[TelegramBot], dict[str, Any] | None]

_update_handlers: dict[str, UpdateHandler] = {}
_settings_hooks: dict[str, SettingsHook] = {}
_settings_describers: dict[str, SettingsDescribe] = {}


def register_update_handler(kind: str, handler: UpdateHandler) -> None:
    _update_handlers[kind] = handler


def update_handler_for(kind: str) -> UpdateHandler | None:
    return _update_handlers.get(kind)


def register_settings_hook(kind: str, hook: SettingsHook, describe: SettingsDescribe | None = None) -> None:
    _settings_hooks[kind] = hook
    if describe is not None:
        _settings_describers[kind] = describe


def settings_hook_for(kind: str) -> SettingsHook | None:
    return _settings_hooks.get(kind)


def settings_describe(bot: TelegramBot) -> dict[str, Any] | None:
    describe = _settings_describers.get(bot.kind)
    return describe(bot) if describe is not None else None
