"""Typed errors that cross layers: services raise them, the API turns them into JSON with a stable code."""

from __future__ import annotations

from typing import Any


class HeraldError(Exception):
    """An error a caller can act on. ``code`` is stable and machine-readable; ``message`` is for people."""

    code: str = "error"
    status: int = 400

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


class InvalidInput(HeraldError):
    code = "invalid_input"
    status = 400


class Unauthorized(HeraldError):
    code = "unauthorized"
    status = 401


class Forbidden(HeraldError):
    code = "forbidden"
    status = 403


class NotFound(HeraldError):
    code = "not_found"
    status = 404


class Conflict(HeraldError):
    code = "conflict"
    status = 409


class RateLimited(HeraldError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: float, **details: Any) -> None:
        super().__init__(message, retry_after=int(retry_after + 0.999), **details)
        self.retry_after = retry_after


class ServiceUnavailable(HeraldError):
    code = "service_unavailable"
    status = 503
