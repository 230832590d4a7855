"""Ninja auth for every router: JWT bearer for people, ``X-API-Key`` for partners and services.

Use ``auth=api_auth()`` for "any signed-in client", ``auth=staff_auth()`` for staff-only routes, or
``JWTAuth()`` / ``ApiKeyAuth(scopes=[...])`` alone. Each sets ``request.auth`` to a :class:`Principal`.
A credential that is present but wrong is refused at once (401 with a code saying why); a missing one
lets the next auth class try. Session auth for the web app and admin stays Django's own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyHeader, HttpBearer
from ninja.security.base import AuthBase

from herald.accounts.models import ApiKey, User
from herald.accounts.selectors import user_from_access_token
from herald.accounts.services import api_key_authenticate
from herald.core.errors import Forbidden, Unauthorized

STAFF_SCOPE = "staff"


@dataclass(frozen=True)
class Principal:
    """Who is calling. For an API key, ``user`` is the key's owner (None for a service key)."""

    user: User | None
    api_key: ApiKey | None = None
    token_family_id: uuid.UUID | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_staff(self) -> bool:
        if self.api_key is not None:
            return STAFF_SCOPE in self.scopes
        return self.user is not None and self.user.is_active and self.user.is_staff

    def has_scope(self, scope: str) -> bool:
        """Scopes restrict API keys only; a person's rights come from groups and flags."""
        return self.api_key is not None and scope in self.scopes


class JWTAuth(HttpBearer):
    """``Authorization: Bearer <access token>``; ``staff_only`` answers 403 to non-staff users."""

    def __init__(self, *, staff_only: bool = False) -> None:
        self.staff_only = staff_only
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> Principal:
        user, family_id = user_from_access_token(token=token)
        principal = Principal(user=user, token_family_id=family_id)
        if self.staff_only and not principal.is_staff:
            raise Forbidden("This endpoint is for staff only.", code="staff_only")
        request.user = user
        return principal


class ApiKeyAuth(APIKeyHeader):
    """``X-API-Key: hk_<prefix>_<secret>``; the key must carry every scope in ``scopes``."""

    param_name = "X-API-Key"

    def __init__(self, *, scopes: Iterable[str] = ()) -> None:
        self.required_scopes = frozenset(scopes)
        super().__init__()

    def authenticate(self, request: HttpRequest, key: str | None) -> Principal | None:
        if not key:
            return None
        api_key = api_key_authenticate(raw_key=key)
        if api_key is None:
            raise Unauthorized("The API key is unknown, inactive or expired.", code="invalid_api_key")
        principal = Principal(user=api_key.owner, api_key=api_key, scopes=frozenset(api_key.scopes))
        missing = self.required_scopes - principal.scopes
        if missing:
            raise Forbidden(
                f"The API key lacks the scope(s): {', '.join(sorted(missing))}.", code="missing_scope"
            )
        return principal


def api_auth(*, scopes: Iterable[str] = ()) -> list[AuthBase]:
    """A signed-in person (JWT) or an API key (with ``scopes``, if given)."""
    return [JWTAuth(), ApiKeyAuth(scopes=scopes)]


def staff_auth() -> list[AuthBase]:
    """A staff user (JWT) or an API key with the ``staff`` scope; others get 403."""
    return [JWTAuth(staff_only=True), ApiKeyAuth(scopes=[STAFF_SCOPE])]


def request_principal(request: HttpRequest) -> Principal:
    """The caller of an authenticated operation (raises 401 if the route had no auth)."""
    principal: Any = getattr(request, "auth", None)
    if not isinstance(principal, Principal):
        raise Unauthorized("Authentication credentials were missing or invalid.")
    return principal


def require_staff(request: HttpRequest) -> Principal:
    """For a route open to all signed-in clients whose one branch needs staff."""
    principal = request_principal(request)
    if not principal.is_staff:
        raise Forbidden("This action is for staff only.", code="staff_only")
    return principal


def bearer_token(request: HttpRequest) -> str | None:
    """The bearer token of the request, if it sent one (for routes where it is optional)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
