"""POST /api/v1/auth/refresh/: rotation, reuse detection (the whole family dies) and races."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from herald.accounts.models import RefreshToken, TokenFamily
from herald.accounts.tasks import accounts_token_families_purge_task
from herald.accounts.tokens import new_jti, token_decode, token_encode
from tests.accounts.conftest import PROFILE, REFRESH, bearer, login, post_json
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def refresh(client: Client, token: str) -> Any:
    return post_json(client, REFRESH, {"refresh_token": token})


def test_refresh_returns_a_new_pair_and_the_old_refresh_token_stops_working(
    client: Client, tokens: dict[str, Any]
) -> None:
    response = refresh(client, tokens["refresh_token"])

    assert response.status_code == 200
    new = response.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert new["access_token"] != tokens["access_token"]
    assert client.get(PROFILE, headers=bearer(new["access_token"])).status_code == 200
    # The rotated-out token is refused...
    assert refresh(client, tokens["refresh_token"]).status_code == 401


def test_reusing_a_rotated_token_revokes_the_whole_family(client: Client, tokens: dict[str, Any]) -> None:
    second = refresh(client, tokens["refresh_token"]).json()
    third = refresh(client, second["refresh_token"]).json()

    replay = refresh(client, tokens["refresh_token"])

    assert replay.status_code == 401
    assert replay.json()["code"] == "token_reused"
    # ...and so is everything the family issued since, refresh and access alike.
    newest = refresh(client, third["refresh_token"])
    assert newest.status_code == 401
    assert newest.json()["code"] == "token_revoked"
    profile = client.get(PROFILE, headers=bearer(third["access_token"]))
    assert profile.status_code == 401
    assert profile.json()["code"] == "token_revoked"


def test_reuse_leaves_the_users_other_logins_alone(client: Client, alice: Any) -> None:
    laptop = login(client, "alice").json()
    phone = login(client, "alice").json()
    refresh(client, laptop["refresh_token"])
    refresh(client, laptop["refresh_token"])  # replay: kills the laptop family only

    assert refresh(client, phone["refresh_token"]).status_code == 200


def test_rotation_is_recorded_as_a_chain(client: Client, tokens: dict[str, Any]) -> None:
    refresh(client, tokens["refresh_token"])

    first_jti = token_decode(token=tokens["refresh_token"], expected_type="refresh").jti
    first = RefreshToken.objects.get(jti=first_jti)
    assert first.used_at is not None
    assert first.replaced_by is not None
    assert first.replaced_by.family_id == first.family_id
    assert first.replaced_by.used_at is None


def test_an_access_token_is_not_a_refresh_token(client: Client, tokens: dict[str, Any]) -> None:
    response = refresh(client, tokens["access_token"])

    assert response.status_code == 401
    assert response.json()["code"] == "wrong_token_type"


def test_an_expired_refresh_token_is_refused(client: Client, tokens: dict[str, Any], alice: Any) -> None:
    family = TokenFamily.objects.get(user=alice)
    long_ago = timezone.now() - timedelta(days=365)
    jti = new_jti()
    old, expires_at = token_encode(
        user_id=alice.pk, family_id=family.id, token_type="refresh", jti=jti, issued_at=long_ago
    )
    RefreshToken.objects.create(jti=jti, family=family, user=alice, issued_at=long_ago, expires_at=expires_at)

    response = refresh(client, old)

    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_a_signed_token_the_server_never_issued_is_refused(client: Client, alice: Any) -> None:
    family = TokenFamily.objects.create(user=alice)
    forged, _ = token_encode(
        user_id=alice.pk, family_id=family.id, token_type="refresh", jti=new_jti(), issued_at=timezone.now()
    )

    response = refresh(client, forged)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_a_deactivated_user_cannot_refresh(client: Client, tokens: dict[str, Any], alice: Any) -> None:
    alice.is_active = False
    alice.save()

    assert refresh(client, tokens["refresh_token"]).status_code == 401
    assert client.get(PROFILE, headers=bearer(tokens["access_token"])).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_with_the_same_token_give_exactly_one_success() -> None:
    UserFactory(username="racer")
    pair = login(Client(), "racer").json()
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def spend() -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(refresh(Client(), pair["refresh_token"]).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=spend) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [200, 401]
    # The loser looked like a replay, so the family is revoked: the token is spent exactly once.
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 1


def test_purging_removes_only_logins_that_can_no_longer_be_used(client: Client, alice: Any) -> None:
    live = login(client, "alice").json()
    dead = login(client, "alice").json()
    dead_family = token_decode(token=dead["refresh_token"], expected_type="refresh").family_id
    RefreshToken.objects.filter(family_id=dead_family).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert accounts_token_families_purge_task() == 1

    assert not TokenFamily.objects.filter(pk=dead_family).exists()
    assert refresh(client, live["refresh_token"]).status_code == 200
    assert client.get(PROFILE, headers=bearer(dead["access_token"])).status_code == 401
