"""Reads for accounts: who an access token belongs to, whether a token family is revoked, profiles."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import cache

from herald.accounts.models import TokenFamily, User
from herald.accounts.tokens import token_decode
from herald.core.errors import Unauthorized

# How long "this family is not revoked" may be served from the cache. Revocation writes the cache
# itself, so this only bounds staleness if that write is lost (e.g. a cache restart).
FAMILY_STATUS_CACHE_SECONDS = 30


def token_family_cache_key(family_id: uuid.UUID) -> str:
    return f"herald:accounts:family-revoked:{family_id}"


def token_family_is_revoked(*, family_id: uuid.UUID) -> bool:
    key = token_family_cache_key(family_id)
    cached = cache.get(key)
    if cached is not None:
        return bool(cached)
    revoked = not TokenFamily.objects.filter(pk=family_id, revoked_at__isnull=True).exists()
    # add, not set: if a revocation wrote True meanwhile, our older answer must not overwrite it.
    cache.add(
        key, revoked, timeout=settings.JWT_ACCESS_TTL_SECONDS if revoked else FAMILY_STATUS_CACHE_SECONDS
    )
    return bool(cache.get(key, revoked))


def user_from_access_token(*, token: str) -> tuple[User, uuid.UUID]:
    """The active user an access token belongs to, and its family; any problem is a 401."""
    claims = token_decode(token=token, expected_type="access")
    if token_family_is_revoked(family_id=claims.family_id):
        raise Unauthorized("The token has been revoked.", code="token_revoked")
    user = User.objects.filter(pk=claims.user_id, is_active=True).first()
    if user is None:
        raise Unauthorized("The token's user does not exist or is inactive.", code="invalid_token")
    return user, claims.family_id


def user_group_names(*, user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))
