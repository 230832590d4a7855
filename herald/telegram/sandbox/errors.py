"""Bot API errors with Telegram's exact shape, and the control API's ``{code, message}`` errors."""

from __future__ import annotations

from typing import Any


class BotApiError(Exception):
    """An answer Telegram would give as ``{"ok": false, "error_code": N, "description": "..."}``."""

    def __init__(
        self, error_code: int, description: str, *, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> BotApiError:
    return BotApiError(403, f"Forbidden: {detail}")


def too_many_requests(retry_after: int) -> BotApiError:
    return BotApiError(
        429, f"Too Many Requests: retry after {retry_after}", parameters={"retry_after": retry_after}
    )


NOT_FOUND = BotApiError(404, "Not Found")
UNAUTHORIZED = BotApiError(401, "Unauthorized")


class ControlError(Exception):
    """A control API request that cannot be done; answered as ``{"code", "message"}`` JSON."""

    def __init__(self, message: str, *, code: str = "invalid_input", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
