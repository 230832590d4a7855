"""Typed Bot API failures, each classified permanent or transient, and the mapping from PTB's exceptions.

Callers decide what to do from the type (and ``.permanent``), never from message text; ``description`` keeps
Telegram's own words for people (an admin reading why a message failed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import warnings
from http import HTTPStatus
from typing import Any

from telegram import error as ptb_error

from herald.core.errors import HeraldError


class TelegramError(HeraldError):
    """A Bot API call failed. ``permanent`` errors will fail again if retried unchanged."""

    code = "telegram_error"
    status = 502
    permanent = False
    outcome = "error"  # the metrics label

    def __init__(self, description: str) -> None:
        super().__init__(f"Telegram: {description}")
        self.description = description

    def __reduce__(self) -> tuple[type, tuple[str]]:  # picklable across Celery workers
        return self.__class__, (self.description,)


class TelegramRetryAfter(TelegramError):
    """Flood control: wait ``seconds`` before calling again."""

    code = "telegram_retry_after"
    status = 503
    outcome = "retry_after"

    def __init__(self, seconds: float, description: str | None = None) -> None:
        super().__init__(description or f"Too Many Requests: retry after {seconds:g}")
        self.seconds = float(seconds)

    def __reduce__(self) -> tuple[type, tuple[float, str]]:  # type: ignore[override]
        return self.__class__, (self.seconds, self.description)


class TelegramHeldBack(TelegramRetryAfter):
    """Not sent: the bot is still waiting out a ``retry_after`` Telegram gave one of its other sends."""

    code = "telegram_held_back"
    outcome = "held"


class TelegramSlotMissed(TelegramHeldBack):
    """Not sent: the process came to it too late for its pacing slot (it was busy); sending it anyway
    would crowd the sends booked after it into Telegram's window. It goes back for a fresh slot."""

    code = "telegram_slot_missed"
    outcome = "slot_missed"


class TelegramChatMigrated(TelegramError):
    """The group became a supergroup: send again to ``new_chat_id``."""

    code = "telegram_chat_migrated"
    outcome = "chat_migrated"

    def __init__(self, new_chat_id: int, description: str | None = None) -> None:
        super().__init__(
            description or f"Bad Request: group chat was upgraded to a supergroup chat (id {new_chat_id})"
        )
        self.new_chat_id = int(new_chat_id)

    def __reduce__(self) -> tuple[type, tuple[int, str]]:  # type: ignore[override]
        return self.__class__, (self.new_chat_id, self.description)


class TelegramForbidden(TelegramError):
    """The bot may not write there: blocked by the user, kicked from the group or channel."""

    code = "telegram_forbidden"
    permanent = True
    outcome = "forbidden"


class TelegramBadRequest(TelegramError):
    """Telegram refused the request itself (chat not found, message too long, bad markup...)."""

    code = "telegram_bad_request"
    permanent = True
    outcome = "bad_request"


class TelegramInvalidToken(TelegramError):
    """The bot token was rejected (revoked, mistyped)."""

    code = "telegram_invalid_token"
    permanent = True
    outcome = "invalid_token"


class TelegramNetworkError(TelegramError):
    """Telegram could not be reached or answered with a server error; worth retrying."""

    code = "telegram_network_error"
    outcome = "network_error"


class TelegramTimeout(TelegramNetworkError):
    code = "telegram_timeout"
    outcome = "timeout"


def error_from_response(status: int, payload: bytes) -> TelegramError:
    """Our typed error for a Bot API answer that is not a success, keeping Telegram's exact description.

    The same rules as PTB's ``BaseRequest._request_wrapper``: the response parameters first (migration,
    retry-after), then the HTTP status.
    """
    body: Any = None
    with contextlib.suppress(ValueError):
        body = json.loads(payload.decode("utf-8", "replace"))
    if not isinstance(body, dict):
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown HTTP error"
        return TelegramNetworkError(f"{phrase} ({status}); the answer was not Telegram JSON")
    description = str(body.get("description") or f"HTTP {status}")
    parameters = body.get("parameters") or {}
    if isinstance(parameters, dict):
        if parameters.get("migrate_to_chat_id"):
            return TelegramChatMigrated(int(parameters["migrate_to_chat_id"]), description)
        if parameters.get("retry_after") is not None and status == HTTPStatus.TOO_MANY_REQUESTS:
            return TelegramRetryAfter(float(parameters["retry_after"]), description)
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return TelegramRetryAfter(1.0, description)
    if status == HTTPStatus.FORBIDDEN:
        return TelegramForbidden(description)
    if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND):
        # Telegram answers 404 for a malformed token (and an unknown method), 401 for a revoked one.
        return TelegramInvalidToken(description)
    if status in (HTTPStatus.BAD_REQUEST, HTTPStatus.CONFLICT):
        return TelegramBadRequest(description)
    return TelegramNetworkError(description)


def _retry_after_seconds(exc: ptb_error.RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB warns that the attribute will become a timedelta; both forms are handled.
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _with_prefix(prefix: str, message: str) -> str:
    # PTB strips the "Bad Request: " prefix from descriptions; put it back so admins read Telegram's text.
    return message if message.startswith(prefix) else f"{prefix}{message}"


def map_ptb_error(exc: BaseException) -> TelegramError:
    """Our typed error for an exception raised by PTB (or by the HTTP layer under it).

    Answers from Telegram are mapped by ``error_from_response`` before PTB sees them; this covers what PTB
    raises itself (timeouts, connection failures) and any PTB error that reaches us another way.
    """
    if isinstance(exc, TelegramError):
        return exc
    if isinstance(exc, ptb_error.RetryAfter):
        return TelegramRetryAfter(_retry_after_seconds(exc))
    if isinstance(exc, ptb_error.ChatMigrated):
        return TelegramChatMigrated(exc.new_chat_id)
    if isinstance(exc, ptb_error.Forbidden):
        return TelegramForbidden(exc.message)
    if isinstance(exc, ptb_error.InvalidToken):
        return TelegramInvalidToken(exc.message)
    if isinstance(exc, ptb_error.EndPointNotFound):
        return TelegramBadRequest(exc.message)
    if isinstance(exc, ptb_error.BadRequest):  # before NetworkError: PTB derives BadRequest from it
        return TelegramBadRequest(_with_prefix("Bad Request: ", exc.message))
    if isinstance(exc, ptb_error.Conflict):
        return TelegramBadRequest(_with_prefix("Conflict: ", exc.message))
    if isinstance(exc, ptb_error.TimedOut):
        return TelegramTimeout(exc.message)
    if isinstance(exc, ptb_error.NetworkError | ptb_error.TelegramError):
        return TelegramNetworkError(exc.message)
    if isinstance(exc, TimeoutError):
        return TelegramTimeout(f"no answer from Telegram in time ({type(exc).__name__})")
    if isinstance(exc, OSError):
        return TelegramNetworkError(f"{type(exc).__name__}: {exc}")
    raise TypeError(f"not a Telegram failure: {exc!r}") from exc
