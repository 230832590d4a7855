"""The API document lists the JSON errors an operation can answer with, as clients need to handle them."""

from __future__ import annotations

from typing import Any

from django.test import Client

from herald.core.openapi import document_error_responses


def _operation(**extra: Any) -> dict[str, Any]:
    return {"responses": {"200": {"description": "OK"}}, **extra}


def test_error_responses_follow_what_the_operation_takes() -> None:
    document = document_error_responses(
        {
            "paths": {
                "/api/things": {
                    "get": _operation(),
                    "post": _operation(requestBody={"content": {}}, security=[{"Bearer": []}]),
                },
                "/api/things/{id}": {
                    "parameters": [],
                    "delete": _operation(parameters=[{"in": "path", "name": "id"}]),
                },
            }
        }
    )
    paths = document["paths"]
    assert set(paths["/api/things"]["get"]["responses"]) == {"200"}
    assert set(paths["/api/things"]["post"]["responses"]) == {"200", "400", "401"}
    assert set(paths["/api/things/{id}"]["delete"]["responses"]) == {"200", "400", "404"}
    bad_input = paths["/api/things"]["post"]["responses"]["400"]["content"]["application/json"]["schema"]
    assert bad_input == {"$ref": "#/components/schemas/ValidationErrorOut"}
    validation = document["components"]["schemas"]["ValidationErrorOut"]
    assert {"code", "message"} <= set(validation["required"])
    assert "errors" in validation["properties"]
    assert "FieldErrorOut" in document["components"]["schemas"]


def test_a_router_keeps_its_own_error_description() -> None:
    own = {"description": "Wrong username or password", "content": {}}
    document = document_error_responses(
        {"paths": {"/login": {"post": _operation(requestBody={}, security=[{}], responses={"401": own})}}}
    )
    assert document["paths"]["/login"]["post"]["responses"]["401"] == own


def test_live_document_declares_the_error_schemas(client: Client) -> None:
    document = client.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert {"ErrorOut", "ValidationErrorOut", "FieldErrorOut"} <= set(schemas)
