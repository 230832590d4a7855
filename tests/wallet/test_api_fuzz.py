"""Schemathesis over the wallet's operations as a signed-in customer and as staff (the suite-wide run sees
only the 401s): any input answers as documented, never with a server error."""

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
from herald.accounts.services import auth_login
from herald.wallet import services
from tests.factories import DEFAULT_PASSWORD, UserFactory

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application).include(
    path_regex=r"^/api/v1/(offers|account|activation|manage)/"
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_wallet_operation_answers_as_documented_for_staff_customers(case: schemathesis.Case) -> None:
    user = UserFactory.create(staff=True)
    services.deposit_create(user=user, amount="50.00")
    services.offer_create(name="Bundle", price="5.00", external_code="B")
    token = auth_login(username=user.username, password=DEFAULT_PASSWORD).access_token
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
