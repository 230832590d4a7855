"""The official Bot API description, indexed once per process, and request checking against it."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from herald.telegram.sandbox.errors import bad_request

_INTEGER = re.compile(r"^-?\d+$")
_TRUE = {"true", "1", "True", "TRUE"}
_FALSE = {"false", "0", "False", "FALSE"}
_SCALARS = {"Integer", "String", "Boolean", "Float", "InputFile"}

# Telegram words some "field is missing" answers its own way.
_MISSING = {
    "text": "message text is empty",
    "photo": "there is no photo in the request",
    "video": "there is no video in the request",
    "animation": "there is no animation in the request",
    "document": "there is no document in the request",
    "audio": "there is no audio in the request",
    "voice": "there is no voice in the request",
    "sticker": "there is no sticker in the request",
    "media": "media is empty",
    "callback_query_id": "query is too old and response timeout expired or query ID is invalid",
    "file_id": "invalid file_id",
}
# Required string fields where an empty string is a meaningful value.
_EMPTY_ALLOWED = {("setWebhook", "url")}


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    types: tuple[str, ...]
    required: bool

    @property
    def type_label(self) -> str:
        return " or ".join(self.types)


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    returns: tuple[str, ...]
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class Spec:
    version: str
    methods: dict[str, Method]  # keyed by lower-case name: Telegram's method names are case-insensitive

    def method(self, name: str) -> Method | None:
        return self.methods.get(name.lower())


@cache
def bot_api_spec() -> Spec:
    """The spec named by ``TELEGRAM_BOT_API_SPEC``, read and indexed once per process."""
    raw = json.loads(settings.TELEGRAM_BOT_API_SPEC.read_text(encoding="utf-8"))
    methods = {}
    for name, body in raw["methods"].items():
        fields = tuple(
            Field(name=f["name"], types=tuple(f["types"]), required=bool(f["required"]))
            for f in body.get("fields", [])
        )
        methods[name.lower()] = Method(name=name, returns=tuple(body.get("returns", [])), fields=fields)
    return Spec(version=raw.get("version", ""), methods=methods)


def _type_error(field: Field) -> Exception:
    return bad_request(f'field "{field.name}" must be of type {field.type_label}')


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_loads_strict(text: str | bytes) -> Any:
    """JSON as Telegram reads it: NaN and Infinity are not JSON."""
    return json.loads(text, parse_constant=_refuse_constant)


def _parse_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json_loads_strict(value)
        except ValueError:
            return _Invalid
    return value


class _InvalidType:
    pass


_Invalid = _InvalidType()


def _coerce_integer(value: Any) -> Any:
    if isinstance(value, bool):
        return _Invalid
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    return _Invalid


def _coerce_scalar(kind: str, value: Any) -> Any:
    if kind == "Integer":
        return _coerce_integer(value)
    if kind == "String":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return _Invalid
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            if value in _TRUE:
                return True
            if value in _FALSE:
                return False
        return _Invalid
    if kind == "Float":
        if isinstance(value, bool):
            return _Invalid
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return _Invalid
            return number if math.isfinite(number) else _Invalid
        return _Invalid
    return _Invalid


def _object_error(field: Field) -> Exception:
    what = "reply keyboard markup" if field.name == "reply_markup" else field.name.replace("_", " ")
    return bad_request(f"can't parse {what} JSON object")


def _coerce(field: Field, value: Any, files: dict[str, UploadedFile]) -> Any:
    types = field.types
    if "InputFile" in types:
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            attached = files.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request(f"file {value!r} is not attached to the request")
            return attached
        if "String" in types and isinstance(value, str):
            return value
        raise _type_error(field)
    if types == ("Integer", "String"):
        as_int = _coerce_integer(value)
        if as_int is not _Invalid:
            return as_int
        if isinstance(value, str):
            return value
        raise _type_error(field)
    if len(types) == 1 and types[0] in _SCALARS:
        coerced = _coerce_scalar(types[0], value)
        if coerced is _Invalid:
            raise _type_error(field)
        return coerced
    if all(t.startswith("Array of ") for t in types):
        parsed = _parse_json(value)
        if not isinstance(parsed, list):
            raise bad_request(f'field "{field.name}" must be a JSON-serialized array')
        inner = types[0].removeprefix("Array of ")
        if inner in _SCALARS:
            items = [_coerce_scalar(inner, item) for item in parsed]
            if any(item is _Invalid for item in items):
                raise bad_request(f'field "{field.name}" must be an array of {inner}')
            return items
        if not all(isinstance(item, dict) for item in parsed):
            raise bad_request(f'field "{field.name}" must be an array of JSON objects')
        return parsed
    # an object type (ReplyParameters, InlineKeyboardMarkup, …): a JSON object, JSON-serialized in forms
    parsed = _parse_json(value)
    if not isinstance(parsed, dict):
        raise _object_error(field)
    return parsed


def clean_strings(value: Any) -> Any:
    """The same value with NUL characters removed; ValueError for text that is not valid Unicode.

    Telegram answers "strings must be encoded in UTF-8" to lone surrogates, and PostgreSQL cannot store
    NUL in text, so neither gets past the door.
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("strings must be encoded in UTF-8") from None
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [clean_strings(item) for item in value]
    if isinstance(value, dict):
        return {clean_strings(key): clean_strings(item) for key, item in value.items()}
    return value


def _is_absent(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def validate_params(method: Method, raw: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
    """The request's parameters, coerced to the spec's types; a Telegram-style 400 for any bad one."""
    params: dict[str, Any] = {}
    for field in method.fields:
        value = raw.get(field.name)
        if value is None and field.name in files:
            value = files[field.name]
        if _is_absent(value):
            if field.required and not (value == "" and (method.name, field.name) in _EMPTY_ALLOWED):
                raise bad_request(_MISSING.get(field.name, f"{field.name} is empty"))
            if value == "" and (method.name, field.name) in _EMPTY_ALLOWED:
                params[field.name] = ""
            continue
        params[field.name] = _coerce(field, value, files)
    return params
