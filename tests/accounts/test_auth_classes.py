"""JWTAuth, ApiKeyAuth, api_auth/staff_auth and require_staff, as other apps' routers use them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import RequestFactory

from herald.accounts.auth import ApiKeyAuth, JWTAuth, Principal, api_auth, require_staff, staff_auth
from herald.accounts.services import api_key_create, auth_login
from herald.core.errors import Forbidden, Unauthorized
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def request_with(**headers: str) -> HttpRequest:
    return RequestFactory().get("/api/anything", headers=headers)


def run_auth(callbacks: Sequence[Any], request: HttpRequest) -> Principal | None:
    """What Ninja does with ``auth=[...]``: the first callback that returns something wins."""
    for callback in callbacks:
        result = callback(request)
        if result:
            request.auth = result  # type: ignore[attr-defined]
            return result
    return None


def access_token_of(user: Any) -> str:
    return auth_login(username=user.username, password=DEFAULT_PASSWORD).access_token


def test_jwt_auth_gives_the_user_as_principal() -> None:
    user = UserFactory.create()
    request = request_with(Authorization=f"Bearer {access_token_of(user)}")

    principal = JWTAuth()(request)

    assert isinstance(principal, Principal)
    assert principal.user == user
    assert principal.api_key is None
    assert request.user == user


def test_api_key_auth_gives_the_key_and_its_owner() -> None:
    owner = UserFactory.create()
    api_key, plaintext = api_key_create(name="partner", owner=owner, scopes=["partner"])

    principal = ApiKeyAuth(scopes=["partner"])(request_with(**{"X-API-Key": plaintext}))

    assert isinstance(principal, Principal)
    assert principal.api_key == api_key
    assert principal.user == owner
    assert principal.has_scope("partner")
    assert not principal.is_staff


def test_api_auth_accepts_either_credential_and_nothing_else() -> None:
    user = UserFactory.create()
    _, plaintext = api_key_create(name="service")

    assert run_auth(api_auth(), request_with(Authorization=f"Bearer {access_token_of(user)}")) is not None
    assert run_auth(api_auth(), request_with(**{"X-API-Key": plaintext})) is not None
    assert run_auth(api_auth(), request_with()) is None


def test_a_present_but_wrong_credential_is_refused_with_a_reason() -> None:
    with pytest.raises(Unauthorized) as wrong_key:
        run_auth(api_auth(), request_with(**{"X-API-Key": "hk_abcdefgh_" + "x" * 40}))
    assert wrong_key.value.code == "invalid_api_key"
    with pytest.raises(Unauthorized) as wrong_token:
        run_auth(api_auth(), request_with(Authorization="Bearer nonsense"))
    assert wrong_token.value.code == "invalid_token"


def test_a_key_without_the_required_scope_is_forbidden() -> None:
    _, plaintext = api_key_create(name="partner", scopes=["partner"])

    with pytest.raises(Forbidden) as refused:
        ApiKeyAuth(scopes=["watch:scrape"])(request_with(**{"X-API-Key": plaintext}))
    assert "watch:scrape" in refused.value.message


def test_staff_auth_lets_staff_in_and_keeps_others_out() -> None:
    staff, member = UserFactory.create(staff=True), UserFactory.create()
    _, staff_key = api_key_create(name="ops", scopes=["staff"])
    _, partner_key = api_key_create(name="partner", scopes=["partner"])

    assert run_auth(staff_auth(), request_with(Authorization=f"Bearer {access_token_of(staff)}")) is not None
    assert run_auth(staff_auth(), request_with(**{"X-API-Key": staff_key})) is not None
    with pytest.raises(Forbidden):
        run_auth(staff_auth(), request_with(Authorization=f"Bearer {access_token_of(member)}"))
    with pytest.raises(Forbidden):
        run_auth(staff_auth(), request_with(**{"X-API-Key": partner_key}))


def test_require_staff_checks_the_authenticated_principal() -> None:
    staff, member = UserFactory.create(staff=True), UserFactory.create()
    staff_request = request_with(Authorization=f"Bearer {access_token_of(staff)}")
    member_request = request_with(Authorization=f"Bearer {access_token_of(member)}")
    run_auth(api_auth(), staff_request)
    run_auth(api_auth(), member_request)

    assert require_staff(staff_request).user == staff
    with pytest.raises(Forbidden):
        require_staff(member_request)
    with pytest.raises(Unauthorized):
        require_staff(request_with())
