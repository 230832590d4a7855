"""The Unfold admin pages for users, groups, API keys (the key is shown once) and token families."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from herald.accounts.models import ApiKey, User
from herald.accounts.services import api_key_authenticate, auth_login
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client: Client) -> Client:
    admin = UserFactory.create(username="root", is_superuser=True, staff=True)
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/auth/group/",
        "/admin/accounts/apikey/",
        "/admin/accounts/apikey/add/",
        "/admin/accounts/tokenfamily/",
    ],
)
def test_admin_pages_open(admin_client_: Client, path: str) -> None:
    assert admin_client_.get(path).status_code == 200


def test_admin_creates_a_user_with_email(admin_client_: Client) -> None:
    response = admin_client_.post(
        "/admin/accounts/user/add/",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "usable_password": "true",
            "password1": "a-long-enough-password-42",
            "password2": "a-long-enough-password-42",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    user = User.objects.get(username="newbie")
    assert user.email == "newbie@example.com"
    assert user.check_password("a-long-enough-password-42")


def test_admin_refuses_a_username_that_differs_only_in_case(admin_client_: Client) -> None:
    UserFactory.create(username="alice")
    response = admin_client_.post(
        "/admin/accounts/user/add/",
        {
            "username": "ALICE",
            "email": "other@example.com",
            "usable_password": "true",
            "password1": "a-long-enough-password-42",
            "password2": "a-long-enough-password-42",
        },
    )

    assert response.status_code == 200  # the form again, with an error
    assert User.objects.filter(username__iexact="alice").count() == 1


def test_adding_an_api_key_shows_it_once(admin_client_: Client) -> None:
    response = admin_client_.post(
        "/admin/accounts/apikey/add/",
        {"name": "acme", "scopes": '["partner"]', "is_active": "on"},
        follow=True,
    )

    shown = [m.message for m in get_messages(response.wsgi_request)] or [response.content.decode()]
    match = re.search(r"hk_[a-z0-9]{8}_[A-Za-z0-9]+", " ".join(shown))
    assert match is not None
    plaintext = match.group(0)
    api_key = api_key_authenticate(raw_key=plaintext)
    assert api_key is not None
    assert api_key.scopes == ["partner"]
    # Not on the change page, not in the list: it exists nowhere in clear any more.
    secret = plaintext.rsplit("_", 1)[1]
    assert secret not in admin_client_.get(f"/admin/accounts/apikey/{api_key.pk}/change/").content.decode()
    assert secret not in admin_client_.get("/admin/accounts/apikey/").content.decode()


def test_admin_refuses_malformed_scopes(admin_client_: Client) -> None:
    response = admin_client_.post("/admin/accounts/apikey/add/", {"name": "acme", "scopes": '"partner"'})

    assert response.status_code == 200
    assert not ApiKey.objects.exists()


def test_log_out_everywhere_action_revokes_every_login(admin_client_: Client) -> None:
    user = UserFactory.create()
    pair = auth_login(username=user.username, password=DEFAULT_PASSWORD)

    admin_client_.post(
        "/admin/accounts/user/", {"action": "log_out_everywhere", "_selected_action": [user.pk]}, follow=True
    )

    response = Client().get("/api/v1/auth/profile/", headers={"Authorization": f"Bearer {pair.access_token}"})
    assert response.status_code == 401
    assert (
        admin_client_.get(f"/admin/accounts/tokenfamily/{user.token_families.get().pk}/change/").status_code
        == 200
    )


def test_changing_a_password_in_the_admin_ends_the_users_api_logins(admin_client_: Client) -> None:
    user = UserFactory.create()
    pair = auth_login(username=user.username, password=DEFAULT_PASSWORD)

    response = admin_client_.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {
            "password1": "brand-new-password-77",
            "password2": "brand-new-password-77",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    profile = Client().get("/api/v1/auth/profile/", headers={"Authorization": f"Bearer {pair.access_token}"})
    assert profile.status_code == 401


def test_the_admin_login_accepts_an_email_in_any_case(client: Client) -> None:
    UserFactory.create(username="boss", email="boss@example.com", is_superuser=True, staff=True)

    assert client.login(username="BOSS@example.com", password=DEFAULT_PASSWORD)
    assert client.get("/admin/").status_code == 200
