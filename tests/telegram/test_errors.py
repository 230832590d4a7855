"""PTB's exceptions become our typed errors, and real failures from the sandbox arrive typed."""

from __future__ import annotations

import json
import pickle

import httpx
import pytest
from telegram import error as ptb_error

from herald.core.metrics import TELEGRAM_CALLS
from herald.telegram import client
from herald.telegram.errors import (
    TelegramBadRequest,
    TelegramChatMigrated,
    TelegramError,
    TelegramForbidden,
    TelegramInvalidToken,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramTimeout,
    error_from_response,
    map_ptb_error,
)
from tests.telegram.sandbox.helpers import SandboxBot


@pytest.mark.parametrize(
    ("raised", "expected_type", "permanent", "description"),
    [
        (ptb_error.RetryAfter(7), TelegramRetryAfter, False, "Too Many Requests: retry after 7"),
        (
            ptb_error.Forbidden("Forbidden: bot was blocked by the user"),
            TelegramForbidden,
            True,
            "Forbidden: bot was blocked by the user",
        ),
        (
            ptb_error.BadRequest("Bad Request: message is too long"),
            TelegramBadRequest,
            True,
            "Bad Request: Message is too long",  # PTB's rewording; answers are mapped before PTB sees them
        ),
        (ptb_error.InvalidToken("Unauthorized"), TelegramInvalidToken, True, "Unauthorized"),
        (ptb_error.TimedOut("Timed out"), TelegramTimeout, False, "Timed out"),
        (ptb_error.NetworkError("Bad Gateway"), TelegramNetworkError, False, "Bad Gateway"),
        (
            ptb_error.Conflict("terminated by other getUpdates request"),
            TelegramBadRequest,
            True,
            "Conflict: terminated by other getUpdates request",
        ),
    ],
)
def test_ptb_errors_map_to_typed_errors(
    raised: Exception, expected_type: type[TelegramError], permanent: bool, description: str
) -> None:
    mapped = map_ptb_error(raised)
    assert type(mapped) is expected_type
    assert mapped.permanent is permanent
    assert mapped.description == description
    # errors cross process boundaries (Celery) intact
    assert pickle.loads(pickle.dumps(mapped)).description == description


@pytest.mark.parametrize(
    ("status", "body", "expected_type", "description"),
    [
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            },
            TelegramRetryAfter,
            "Too Many Requests: retry after 3",
        ),
        (
            400,
            {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": -1001234},
            },
            TelegramChatMigrated,
            "Bad Request: group chat was upgraded to a supergroup chat",
        ),
        (
            403,
            {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
            TelegramForbidden,
            "Forbidden: bot was blocked by the user",
        ),
        (
            400,
            {"ok": False, "error_code": 400, "description": "Bad Request: BUTTON_DATA_INVALID"},
            TelegramBadRequest,
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
            TelegramInvalidToken,
            "Unauthorized",
        ),
        (
            404,
            {"ok": False, "error_code": 404, "description": "Not Found"},
            TelegramInvalidToken,
            "Not Found",
        ),
        (
            502,
            b"<html>Bad Gateway</html>",
            TelegramNetworkError,
            "Bad Gateway (502); the answer was not Telegram JSON",
        ),
        (
            500,
            {"ok": False, "error_code": 500, "description": "Internal Server Error"},
            TelegramNetworkError,
            "Internal Server Error",
        ),
    ],
)
def test_telegram_answers_map_to_typed_errors_with_their_exact_description(
    status: int, body: object, expected_type: type[TelegramError], description: str
) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    error = error_from_response(status, payload)
    assert type(error) is expected_type
    assert error.description == description


def test_retry_after_and_migration_carry_their_numbers() -> None:
    retry = map_ptb_error(ptb_error.RetryAfter(12))
    assert isinstance(retry, TelegramRetryAfter) and retry.seconds == 12.0
    migrated = map_ptb_error(ptb_error.ChatMigrated(-1001234567890))
    assert isinstance(migrated, TelegramChatMigrated)
    assert migrated.new_chat_id == -1001234567890 and not migrated.permanent
    assert pickle.loads(pickle.dumps(migrated)).new_chat_id == -1001234567890


def test_typed_errors_are_herald_errors_with_a_stable_code() -> None:
    error = map_ptb_error(ptb_error.Forbidden("Forbidden: bot was kicked from the group chat"))
    assert error.as_dict()["code"] == "telegram_forbidden"


@pytest.mark.usefixtures("gateway")
def test_real_failures_from_the_sandbox_arrive_typed_and_counted(shop_bot: SandboxBot, ann: int) -> None:
    with pytest.raises(TelegramInvalidToken):
        client.call("123:not-a-real-token", "getMe")
    with pytest.raises(TelegramBadRequest, match=r"^Telegram: Bad Request: chat not found$"):
        client.call(shop_bot.token, "sendMessage", chat_id=42, text="hi")
    before = TELEGRAM_CALLS.labels(method="getMe", outcome="ok")._value.get()
    me = client.call(shop_bot.token, "getMe")
    assert me["username"] == shop_bot.username
    assert TELEGRAM_CALLS.labels(method="getMe", outcome="ok")._value.get() == before + 1
    assert TELEGRAM_CALLS.labels(method="sendMessage", outcome="bad_request")._value.get() >= 1


@pytest.mark.usefixtures("gateway")
def test_metrics_page_shows_telegram_calls_by_method_and_outcome(shop_bot: SandboxBot, gateway: str) -> None:
    client.call(shop_bot.token, "getMe")
    text = httpx.get(f"{gateway}/metrics").text
    assert 'herald_telegram_calls_total{method="getMe",outcome="ok"}' in text


def test_an_unreachable_api_is_a_transient_network_error(settings: object) -> None:
    settings.TELEGRAM_API_BASE = "http://127.0.0.1:9/bot"  # type: ignore[attr-defined]
    with pytest.raises(TelegramNetworkError) as caught:
        client.call("1:token", "getMe")
    assert caught.value.permanent is False


def test_a_method_name_that_is_not_one_is_refused_before_any_call() -> None:
    with pytest.raises(TelegramBadRequest, match="not a Bot API method"):
        client.call("1:token", "../getMe")
