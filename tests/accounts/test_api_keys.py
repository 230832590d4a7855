"""API keys: shown once, hashed at rest, refused when wrong, inactive or expired; the CLI prints one."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from herald.accounts.models import ApiKey
from herald.accounts.services import api_key_authenticate, api_key_create, api_key_deactivate
from herald.core.errors import InvalidInput
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_key_has_the_documented_format_and_is_stored_only_as_a_hash() -> None:
    api_key, plaintext = api_key_create(name="acme partner", scopes=["partner"])

    prefix, secret = plaintext.removeprefix("hk_").split("_")
    assert plaintext.startswith("hk_")
    assert prefix == api_key.prefix
    assert len(prefix) == 8
    assert len(secret) >= 32
    # Nothing in the row (or anywhere in the table) contains the secret part.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apikey")
        rows = cursor.fetchall()
    assert rows
    assert not any(secret in str(value) for row in rows for value in row)
    assert len(api_key.key_hash) == 64


def test_two_keys_never_share_a_prefix_or_secret() -> None:
    keys = {api_key_create(name=f"k{i}")[1] for i in range(20)}
    assert len(keys) == 20
    assert ApiKey.objects.values("prefix").distinct().count() == 20


def test_the_right_key_authenticates_and_records_its_use() -> None:
    owner = UserFactory.create()
    api_key, plaintext = api_key_create(name="scraper", owner=owner, scopes=["watch:scrape"])
    assert api_key.last_used_at is None

    found = api_key_authenticate(raw_key=plaintext)

    assert found == api_key
    assert found is not None
    assert found.owner == owner
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # one character of the secret
        lambda key: key.replace("hk_", "hx_"),
        lambda key: key + "x",
        lambda key: key.upper(),
        lambda key: key.rsplit("_", 1)[0],
        lambda key: "",
        lambda key: "hk_" + "_" * 60,
    ],
    ids=["secret", "scheme", "longer", "case", "no-secret", "empty", "underscores"],
)
def test_a_wrong_key_is_refused(mangle: Callable[[str], str]) -> None:
    _, plaintext = api_key_create(name="partner")
    assert api_key_authenticate(raw_key=mangle(plaintext)) is None


def test_an_inactive_key_is_refused() -> None:
    api_key, plaintext = api_key_create(name="partner")
    api_key_deactivate(api_key=api_key)
    assert api_key_authenticate(raw_key=plaintext) is None


def test_an_expired_key_is_refused() -> None:
    _, plaintext = api_key_create(name="partner", expires_at=timezone.now() - timedelta(seconds=1))
    assert api_key_authenticate(raw_key=plaintext) is None


def test_a_key_of_a_deactivated_owner_is_refused() -> None:
    owner = UserFactory.create()
    _, plaintext = api_key_create(name="partner", owner=owner)
    owner.is_active = False
    owner.save()
    assert api_key_authenticate(raw_key=plaintext) is None


@pytest.mark.parametrize("scopes", [["Partner"], ["has space"], [1], ["x" * 65]])
def test_malformed_scopes_are_refused(scopes: list[object]) -> None:
    with pytest.raises(InvalidInput):
        api_key_create(name="partner", scopes=scopes)  # type: ignore[arg-type]
    assert not ApiKey.objects.exists()


def test_create_api_key_command_prints_a_working_key_once() -> None:
    out, err = io.StringIO(), io.StringIO()
    UserFactory.create(username="partner-acme")

    call_command(
        "create_api_key",
        "acme",
        "--scope",
        "partner",
        "--scope",
        "wallet",
        "--owner",
        "partner-acme",
        stdout=out,
        stderr=err,
    )

    plaintext = out.getvalue().strip()
    api_key = api_key_authenticate(raw_key=plaintext)
    assert api_key is not None
    assert api_key.name == "acme"
    assert api_key.scopes == ["partner", "wallet"]
    assert api_key.owner is not None
    assert api_key.owner.username == "partner-acme"
    assert "shown only once" in err.getvalue()
    assert plaintext not in err.getvalue()
