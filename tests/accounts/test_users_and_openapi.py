"""user_create (case-insensitive uniqueness, roles as groups) and the auth API's OpenAPI description."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from herald.accounts.models import User
from herald.accounts.services import auth_login, user_create, user_password_set
from herald.core.errors import Conflict, InvalidInput, Unauthorized

pytestmark = pytest.mark.django_db


def test_user_create_with_roles_and_login() -> None:
    user = user_create(username="editor", email="Ed@Example.COM", password="pw-1234567", groups=["editors"])

    assert user.email == "Ed@example.com"  # the domain is normalised, the local part kept
    assert list(user.groups.values_list("name", flat=True)) == ["editors"]
    assert auth_login(username="ed@example.com", password="pw-1234567").access_token


@pytest.mark.parametrize(
    ("username", "email", "code"),
    [("ALICE", "new@example.com", "username_taken"), ("new", "ALICE@example.com", "email_taken")],
)
def test_user_create_refuses_names_taken_in_another_case(username: str, email: str, code: str) -> None:
    user_create(username="alice", email="alice@example.com")

    with pytest.raises(Conflict) as refused:
        user_create(username=username, email=email)
    assert refused.value.code == code


def test_the_database_itself_refuses_case_variants() -> None:
    User.objects.create(username="alice", email="alice@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="Alice", email="other@example.com")


def test_user_create_refuses_an_invalid_email() -> None:
    with pytest.raises(InvalidInput):
        user_create(username="x", email="not an email")


def test_a_user_without_password_cannot_log_in() -> None:
    user_create(username="service", email="service@example.com")
    with pytest.raises(Unauthorized):
        auth_login(username="service", password="")


def test_changing_the_password_ends_every_login() -> None:
    user = user_create(username="bob", email="bob@example.com", password="old-password-1")
    pair = auth_login(username="bob", password="old-password-1")

    user_password_set(user=user, password="new-password-2")

    response = Client().get("/api/v1/auth/profile/", headers={"Authorization": f"Bearer {pair.access_token}"})
    assert response.status_code == 401
    assert auth_login(username="bob", password="new-password-2").access_token


def test_openapi_documents_the_auth_endpoints_with_error_schemas(client: Client) -> None:
    doc = client.get("/api/openapi.json").json()
    paths = doc["paths"]
    error_ref = {"$ref": "#/components/schemas/ErrorOut"}

    def response_schema(path: str, method: str, status: str) -> object:
        return paths[path][method]["responses"][status]["content"]["application/json"]["schema"]

    assert response_schema("/api/v1/auth/login/", "post", "200") == {
        "$ref": "#/components/schemas/TokenPairOut"
    }
    for status in ("400", "401", "429"):
        assert response_schema("/api/v1/auth/login/", "post", status) == error_ref
    assert response_schema("/api/v1/auth/refresh/", "post", "401") == error_ref
    assert "204" in paths["/api/v1/auth/logout/"]["post"]["responses"]
    assert response_schema("/api/v1/auth/profile/", "get", "401") == error_ref
    assert paths["/api/v1/auth/profile/"]["get"]["security"]
    error = doc["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"code", "message"}
    login_in = doc["components"]["schemas"]["LoginIn"]
    assert set(login_in["required"]) == {"username", "password"}
