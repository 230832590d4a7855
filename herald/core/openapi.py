"""Adds the error answers every operation can give to the OpenAPI document, so clients (and schemathesis)
know them: 400 for bad input, 401 when the operation needs credentials, 404 when it addresses an object.
A router that declares one of these codes itself keeps its own description.
"""

from __future__ import annotations

from typing import Any

from herald.core.schemas import ErrorOut, ValidationErrorOut

_REF_PREFIX = "#/components/schemas/"
_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _component(document: dict[str, Any], schema: type[ErrorOut]) -> dict[str, Any]:
    definition = schema.model_json_schema(ref_template=_REF_PREFIX + "{model}")
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(definition.pop("$defs", {}))
    components.setdefault(schema.__name__, definition)
    return {
        "description": (schema.__doc__ or schema.__name__).strip(),
        "content": {"application/json": {"schema": {"$ref": _REF_PREFIX + schema.__name__}}},
    }


def document_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Adds 400/401/404 error responses to each operation of ``document`` (in place) and returns it."""
    validation = _component(document, ValidationErrorOut)
    error = _component(document, ErrorOut)
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _HTTP_METHODS:
                continue
            # Ninja keys responses by int; JSON keys are strings: normalise so a declared 400 is kept
            responses = {str(code): answer for code, answer in operation.get("responses", {}).items()}
            operation["responses"] = responses
            parameters = operation.get("parameters", [])
            if parameters or "requestBody" in operation:
                responses.setdefault("400", {**validation, "description": "Bad input"})
            if operation.get("security"):
                responses.setdefault("401", {**error, "description": "Missing or invalid credentials"})
            if any(p.get("in") == "path" for p in parameters):
                responses.setdefault("404", {**error, "description": "No such object"})
    return document
