"""Response schemas shared by every router: the JSON error bodies the API answers with."""

from __future__ import annotations

from ninja import Schema


class ErrorOut(Schema):
    """Every error: a stable machine-readable ``code`` and a ``message`` for people (plus details, if any)."""

    code: str
    message: str


class FieldErrorOut(Schema):
    field: str
    message: str
    type: str | None = None


class ValidationErrorOut(ErrorOut):
    """A 400 for bad input: ``errors`` names each field that was wrong."""

    errors: list[FieldErrorOut] = []
