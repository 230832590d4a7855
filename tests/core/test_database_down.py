"""The database briefly unavailable: the API answers 503 with a retry hint, never a 500."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from herald.accounts.models import User
from tests.factories import DEFAULT_PASSWORD


@pytest.mark.django_db
def test_api_answers_503_with_retry_after_when_the_database_is_down(
    client: Client, staff_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: BaseDatabaseWrapper, *args: object, **kwargs: object) -> None:
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    response = client.post(
        "/api/v1/auth/login/",
        {"username": staff_user.username, "password": DEFAULT_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "code": "service_unavailable",
        "message": "The database is unavailable; retry shortly.",
        "retry_after": 5,
    }
