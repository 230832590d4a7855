"""Schemathesis over the live OpenAPI document: every operation, fed valid and invalid input alike, answers
without a server error and as the document says (status code, content type, body schema).

It reads `/api/openapi.json` at collection time, so each router mounted on the API is covered as soon as
it exists. Bounded to 25 examples per operation to keep the suite fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

if not schema.raw_schema.get("paths"):
    # schemathesis refuses a document without operations; say so instead of failing collection
    pytest.skip("the API document has no operations yet", allow_module_level=True)


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Calling the WSGI app directly fires request_finished, which would close the test's database
    connection in the middle of its transaction; Django's own test client disconnects it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api_operation_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
