"""Encoding and checking Herald's JWTs (HS256, issuer "herald"); no database access here."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt
from django.conf import settings

from herald.core.errors import Unauthorized

ISSUER = "herald"
ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]
_REQUIRED_CLAIMS = ["sub", "jti", "type", "iat", "exp", "iss", "fid"]


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    jti: str
    type: TokenType
    family_id: uuid.UUID
    issued_at: datetime
    expires_at: datetime


def token_ttl(token_type: TokenType) -> timedelta:
    seconds = settings.JWT_ACCESS_TTL_SECONDS if token_type == "access" else settings.JWT_REFRESH_TTL_SECONDS
    return timedelta(seconds=seconds)


def new_jti() -> str:
    return secrets.token_urlsafe(24)


def token_encode(
    *, user_id: int, family_id: uuid.UUID, token_type: TokenType, jti: str, issued_at: datetime
) -> tuple[str, datetime]:
    """Returns the signed token and its expiry."""
    expires_at = issued_at + token_ttl(token_type)
    payload = {
        "iss": ISSUER,
        "sub": str(user_id),
        "jti": jti,
        "type": token_type,
        "fid": str(family_id),
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(payload, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM), expires_at


def token_decode(*, token: str, expected_type: TokenType, verify_exp: bool = True) -> TokenClaims:
    """Checks signature, issuer, expiry and type; any failure is a 401 with a code saying which."""
    try:
        payload = jwt.decode(
            token,
            settings.JWT_SIGNING_KEY,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": _REQUIRED_CLAIMS, "verify_exp": verify_exp},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired.", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(
            "The token is malformed or its signature is invalid.", code="invalid_token"
        ) from exc
    if payload.get("type") != expected_type:
        raise Unauthorized(f"Expected an {expected_type} token.", code="wrong_token_type")
    try:
        user_id = int(payload["sub"])
        family_id = uuid.UUID(str(payload["fid"]))
        jti = str(payload["jti"])
        issued_at = datetime.fromtimestamp(int(payload["iat"]), tz=UTC)
        expires_at = datetime.fromtimestamp(int(payload["exp"]), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise Unauthorized("The token's claims are malformed.", code="invalid_token") from exc
    return TokenClaims(
        user_id=user_id,
        jti=jti,
        type=expected_type,
        family_id=family_id,
        issued_at=issued_at,
        expires_at=expires_at,
    )
