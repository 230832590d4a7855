"""Persona fixtures for permission tests (owner, member, outsider, staff) and signed-in API clients."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from django.test import Client

from herald.accounts.models import User
from herald.accounts.services import auth_login
from tests.factories import DEFAULT_PASSWORD, UserFactory


@dataclasses.dataclass(frozen=True)
class Personas:
    """``owner`` owns the thing under test, ``member`` shares it, ``outsider`` has no part in it."""

    owner: User
    member: User
    outsider: User


@pytest.fixture
def personas(db: None) -> Personas:
    return Personas(
        owner=UserFactory.create(username="olivia-owner"),
        member=UserFactory.create(username="mark-member"),
        outsider=UserFactory.create(username="oscar-outsider"),
    )


@pytest.fixture
def staff_user(db: None) -> User:
    return UserFactory.create(username="stella-staff", staff=True)


@pytest.fixture
def bearer_client() -> Callable[[User], Client]:
    """``bearer_client(user)``: a test client that sends a fresh access token of ``user``."""

    def make(user: User) -> Client:
        pair = auth_login(username=user.username, password=DEFAULT_PASSWORD)
        return Client(headers={"Authorization": f"Bearer {pair.access_token}"})

    return make
