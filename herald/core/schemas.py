"""API schemas every app shares: the error body all 4xx/5xx answers use."""

from __future__ import annotations

from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field


class FieldErrorOut(Schema):
    field: str = Field(description="The offending field, dotted for nested ones.")
    message: str
    type: str | None = None


class ErrorOut(Schema):
    """``{code, message}`` plus optional details (``errors`` for validation, ``retry_after`` for 429)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable, machine-readable error code.", examples=["invalid_credentials"])
    message: str = Field(description="What went wrong, for people.")
    errors: list[FieldErrorOut] | None = Field(default=None, description="Per-field validation errors.")
    retry_after: int | None = Field(default=None, description="Seconds to wait before retrying (429).")


def _encodable(value: str) -> str:
    # NUL is refused by PostgreSQL text columns and lone surrogates by every UTF-8 encoder: both would
    # otherwise surface as a 500 deep inside a query.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


# A string safe to store and query: use it for every free-text field of a request body.
Text = Annotated[str, Field(pattern=r"^[^\x00]*$"), AfterValidator(_encodable)]
