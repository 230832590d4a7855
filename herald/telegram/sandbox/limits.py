"""Telegram's send limits as sliding windows held in this process: per bot, per private chat, per group.

Over a limit the sandbox answers 429 with ``retry_after`` like Telegram. The windows live in memory,
so with several web processes each one counts on its own (the embedded setup runs one).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from django.conf import settings

from herald.telegram.sandbox.errors import too_many_requests

_lock = threading.Lock()
_windows: dict[tuple[str, int, int], deque[float]] = {}
_enabled_override: bool | None = None
_PRUNE_ABOVE = 10_000


def limits_enabled() -> bool:
    return settings.SANDBOX_LIMITS_ENABLED if _enabled_override is None else _enabled_override


def limits_set(*, enabled: bool | None) -> None:
    """Switch limits on or off in this process; ``None`` goes back to ``SANDBOX_LIMITS_ENABLED``."""
    global _enabled_override
    with _lock:
        _enabled_override = enabled
        _windows.clear()


def _rules(bot_id: int, chat_id: int, chat_is_private: bool) -> list[tuple[tuple[str, int, int], int, float]]:
    """(window key, how many sends, in how many seconds) that one more send must fit in. A chat's limit is
    a bot's to that chat: two bots writing to one person, or posting in one group, count apart."""
    rules: list[tuple[tuple[str, int, int], int, float]] = [
        (("bot", bot_id, 0), settings.SANDBOX_LIMIT_PER_BOT_PER_SECOND, 1.0)
    ]
    if chat_is_private:
        burst = max(1, settings.SANDBOX_PRIVATE_CHAT_BURST)
        rules.append(
            (("chat", bot_id, chat_id), burst, burst / settings.SANDBOX_LIMIT_PER_PRIVATE_CHAT_PER_SECOND)
        )
    else:
        rules.append((("chat", bot_id, chat_id), settings.SANDBOX_LIMIT_PER_GROUP_PER_MINUTE, 60.0))
    return rules


def limits_check_send(*, bot_id: int, chat_id: int, chat_is_private: bool) -> None:
    """Count one send from the bot to the chat, or raise 429 if it does not fit now."""
    if not limits_enabled():
        return
    now = time.monotonic()
    rules = _rules(bot_id, chat_id, chat_is_private)
    with _lock:
        wait = 0.0
        for key, allowed, seconds in rules:
            window = _windows.setdefault(key, deque())
            while window and window[0] <= now - seconds:
                window.popleft()
            if window and len(window) >= allowed:
                # the send fits once enough of the oldest sends have left the window
                wait = max(wait, window[len(window) - allowed] + seconds - now)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for key, _allowed, _seconds in rules:
            _windows[key].append(now)
        if len(_windows) > _PRUNE_ABOVE:
            # forget chats that have been quiet for longer than the longest window
            for key in [k for k, w in _windows.items() if not w or w[-1] <= now - 60.0]:
                del _windows[key]
