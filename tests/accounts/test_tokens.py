"""Access tokens that are expired, tampered, forged or revoked are refused with 401, never a 500."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.accounts.conftest import PROFILE, bearer

pytestmark = pytest.mark.django_db
fixture_ok = hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def claims_of(token: str) -> dict[str, Any]:
    return json.loads(unb64url(token.split(".")[1]))


def sign(claims: dict[str, Any], *, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key if key is not None else settings.JWT_SIGNING_KEY, algorithm=algorithm)


def profile_status(client: Client, token: str) -> tuple[int, str]:
    response = client.get(PROFILE, headers=bearer(token))
    return response.status_code, response.json()["code"] if response.status_code != 200 else ""


@fixture_ok
@given(data=st.data())
def test_flipping_any_bit_of_a_token_makes_it_invalid(
    client: Client, tokens: dict[str, Any], data: st.DataObject
) -> None:
    segments = tokens["access_token"].split(".")
    which = data.draw(st.integers(0, 2), label="segment")
    raw = bytearray(unb64url(segments[which]))
    bit = data.draw(st.integers(0, len(raw) * 8 - 1), label="bit")
    raw[bit // 8] ^= 1 << (bit % 8)
    segments[which] = b64url(bytes(raw))

    status, code = profile_status(client, ".".join(segments))

    assert status == 401
    assert code in {"invalid_token", "wrong_token_type", "token_expired"}


@fixture_ok
@given(garbage=st.text(max_size=300))
def test_any_string_as_bearer_is_a_clean_401(client: Client, garbage: str) -> None:
    header = f"Bearer {garbage}".encode("latin-1", "replace").decode("latin-1")
    response = client.get(PROFILE, headers={"Authorization": header})

    assert response.status_code == 401


def test_a_token_signed_with_another_key_is_refused(client: Client, tokens: dict[str, Any]) -> None:
    forged = sign(claims_of(tokens["access_token"]), key="not-the-signing-key-" + "x" * 32)
    assert profile_status(client, forged) == (401, "invalid_token")


def test_an_unsigned_alg_none_token_is_refused(client: Client, tokens: dict[str, Any]) -> None:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = tokens["access_token"].split(".")[1]
    assert profile_status(client, f"{header}.{payload}.") == (401, "invalid_token")


def test_an_expired_access_token_is_refused(client: Client, tokens: dict[str, Any]) -> None:
    claims = claims_of(tokens["access_token"])
    claims.update(iat=int(time.time()) - 3600, exp=int(time.time()) - 60)
    assert profile_status(client, sign(claims)) == (401, "token_expired")


@pytest.mark.parametrize(
    "change",
    [{"iss": "someone-else"}, {"sub": "not-a-number"}, {"fid": "not-a-uuid"}, {"type": None}],
    ids=["issuer", "subject", "family", "type"],
)
def test_tokens_with_wrong_claims_are_refused(
    client: Client, tokens: dict[str, Any], change: dict[str, Any]
) -> None:
    claims = {**claims_of(tokens["access_token"]), **change}
    assert profile_status(client, sign(claims))[0] == 401


@pytest.mark.parametrize("claim", ["sub", "jti", "type", "iat", "exp", "iss", "fid"])
def test_tokens_missing_a_claim_are_refused(client: Client, tokens: dict[str, Any], claim: str) -> None:
    claims = claims_of(tokens["access_token"])
    del claims[claim]
    assert profile_status(client, sign(claims))[0] == 401


def test_a_token_for_a_deleted_user_is_refused(client: Client, tokens: dict[str, Any], alice: Any) -> None:
    alice.delete()
    assert profile_status(client, tokens["access_token"])[0] == 401
