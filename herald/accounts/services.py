"""Every write in accounts: users, JWT login/refresh/logout with rotation and reuse detection, API keys."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import string
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from herald.accounts.models import ApiKey, RefreshToken, TokenFamily, User, validate_scopes
from herald.accounts.selectors import token_family_cache_key
from herald.accounts.tokens import new_jti, token_decode, token_encode
from herald.core.errors import Conflict, InvalidInput, RateLimited, Unauthorized

# --- Users ------------------------------------------------------------------------------------------


def user_create(
    *,
    username: str,
    email: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    groups: Iterable[str] = (),
) -> User:
    """Creates a user; ``groups`` are role names (created if missing). No password = cannot log in."""
    username = username.strip()
    email = User.objects.normalize_email(email.strip())
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"The username {username!r} is taken.", code="username_taken")
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(f"The email {email!r} is already registered.", code="email_taken")
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff or is_superuser,
        is_superuser=is_superuser,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise InvalidInput(_validation_message(exc), code="invalid_user") from exc
    try:
        with transaction.atomic():
            user.save()
            for name in groups:
                group, _ = Group.objects.get_or_create(name=name)
                user.groups.add(group)
    except IntegrityError as exc:  # a concurrent create with the same name won the race
        raise Conflict("That username or email is already registered.", code="user_exists") from exc
    return user


def user_password_set(*, user: User, password: str) -> None:
    """Sets a new password and logs the user out everywhere (every token family is revoked)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    user_sessions_revoke(user=user, reason="password_changed")


def user_sessions_revoke(*, user: User, reason: str) -> int:
    family_ids = list(
        TokenFamily.objects.filter(user=user, revoked_at__isnull=True).values_list("id", flat=True)
    )
    for family_id in family_ids:
        token_family_revoke(family_id=family_id, reason=reason)
    return len(family_ids)


def _validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


# --- JWT login, refresh, logout ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


def auth_login(
    *, username: str, password: str, client_ip: str | None = None, user_agent: str = ""
) -> TokenPair:
    """Username or email + password -> a new token family. Rate-limited per (username, client IP)."""
    throttle_key = _login_throttle_key(username=username, client_ip=client_ip)
    _login_throttle_hit(key=throttle_key)
    user = authenticate(None, username=username, password=password)
    if not isinstance(user, User):  # wrong password, unknown user and inactive user look the same
        raise Unauthorized("Wrong username or password.", code="invalid_credentials")
    _login_throttle_reset(key=throttle_key)
    now = timezone.now()
    with transaction.atomic():
        family = TokenFamily.objects.create(
            user=user, client_ip=_valid_ip(client_ip), user_agent=user_agent.replace("\x00", "")[:256]
        )
        User.objects.filter(pk=user.pk).update(last_login=now)
        return _token_pair_issue(family=family, now=now)


def _valid_ip(value: str | None) -> str | None:
    # REMOTE_ADDR is not always an IP (a unix socket, a test client), and the column is typed.
    try:
        return str(ipaddress.ip_address(value or ""))
    except ValueError:
        return None


def auth_refresh(*, refresh_token: str) -> TokenPair:
    """Spends a refresh token for a new pair. Spending one twice revokes its whole family."""
    claims = token_decode(token=refresh_token, expected_type="refresh")
    now = timezone.now()
    with transaction.atomic():
        token = RefreshToken.objects.select_related("family", "user").filter(jti=claims.jti).first()
        if token is None or token.family_id != claims.family_id or token.user_id != claims.user_id:
            raise Unauthorized("Unknown refresh token.", code="invalid_token")
        if token.family.revoked_at is not None or token.revoked_at is not None:
            raise Unauthorized("The token has been revoked.", code="token_revoked")
        if token.expires_at <= now:
            raise Unauthorized("The token has expired.", code="token_expired")
        if token.user.is_active:
            # The WHERE used_at IS NULL makes the claim atomic: of two concurrent refreshes with the
            # same token, only one UPDATE matches a row.
            claimed = RefreshToken.objects.filter(
                pk=token.pk, used_at__isnull=True, revoked_at__isnull=True
            ).update(used_at=now)
            if claimed == 1:
                pair, new_token = _token_pair_issue_with_row(family=token.family, now=now)
                RefreshToken.objects.filter(pk=token.pk).update(replaced_by=new_token)
                return pair
    # Reached when the token was already spent (a replay: someone else may hold the family) or the
    # user was deactivated. The revocation must commit, so it runs after the block above.
    if not token.user.is_active:
        token_family_revoke(family_id=token.family_id, reason="user_inactive")
        raise Unauthorized("The user is inactive.", code="invalid_token")
    token_family_revoke(family_id=token.family_id, reason="reuse")
    raise Unauthorized(
        "This refresh token was already used; every token of this login has been revoked.",
        code="token_reused",
    )


def auth_logout(*, refresh_token: str | None = None, access_token: str | None = None) -> None:
    """Revokes the family of the given token(s): the refresh token and the access tokens it minted."""
    family_ids: set[uuid.UUID] = set()
    if refresh_token:
        # An expired refresh token still names a login a client may want to end.
        family_ids.add(token_decode(token=refresh_token, expected_type="refresh", verify_exp=False).family_id)
    if access_token:
        family_ids.add(token_decode(token=access_token, expected_type="access").family_id)
    if not family_ids:
        raise Unauthorized("Send the refresh token or an access token to log out.", code="unauthorized")
    for family_id in family_ids:
        token_family_revoke(family_id=family_id, reason="logout")


def token_family_revoke(*, family_id: uuid.UUID, reason: str) -> bool:
    """Revokes a family and all its refresh tokens; its access tokens are refused from now on."""
    now = timezone.now()
    with transaction.atomic():
        revoked = TokenFamily.objects.filter(pk=family_id, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason=reason[:32]
        )
        RefreshToken.objects.filter(family_id=family_id, revoked_at__isnull=True).update(revoked_at=now)
    # Written at once (not on commit) so the access-token check never serves a stale "not revoked";
    # if the transaction rolled back, the worst case is refusing tokens of a live family.
    cache.set(token_family_cache_key(family_id), True, timeout=settings.JWT_ACCESS_TTL_SECONDS)
    return revoked == 1


def token_families_purge_expired(*, now: datetime | None = None) -> int:
    """Deletes logins whose every refresh token has expired: nothing they issued can be used any more.

    (Access tokens live shorter than the refresh token minted with them.) Returns how many went.
    """
    now = now or timezone.now()
    live = RefreshToken.objects.filter(expires_at__gt=now).values("family_id")
    _, per_model = TokenFamily.objects.exclude(id__in=live).filter(created_at__lt=now).delete()
    return per_model.get(TokenFamily._meta.label, 0)


def _token_pair_issue(*, family: TokenFamily, now: datetime) -> TokenPair:
    pair, _ = _token_pair_issue_with_row(family=family, now=now)
    return pair


def _token_pair_issue_with_row(*, family: TokenFamily, now: datetime) -> tuple[TokenPair, RefreshToken]:
    refresh_jti = new_jti()
    refresh, refresh_expires = token_encode(
        user_id=family.user_id, family_id=family.id, token_type="refresh", jti=refresh_jti, issued_at=now
    )
    access, access_expires = token_encode(
        user_id=family.user_id, family_id=family.id, token_type="access", jti=new_jti(), issued_at=now
    )
    row = RefreshToken.objects.create(
        jti=refresh_jti, family=family, user_id=family.user_id, issued_at=now, expires_at=refresh_expires
    )
    expires_in = int((access_expires - now).total_seconds())
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=expires_in), row


# --- Login rate limit -------------------------------------------------------------------------------


def _login_rate_limit() -> tuple[int, int]:
    try:
        attempts, seconds = (int(part) for part in settings.LOGIN_RATE_LIMIT.split("/"))
    except ValueError as exc:
        raise ImproperlyConfigured("LOGIN_RATE_LIMIT must look like '10/300' (attempts/seconds).") from exc
    return attempts, seconds


def _login_throttle_key(*, username: str, client_ip: str | None) -> str:
    # Hashed: usernames are user input, and cache keys have length and character limits.
    digest = hashlib.sha256(f"{username.strip().lower()}\0{client_ip or '-'}".encode()).hexdigest()
    return f"herald:accounts:login-attempts:{digest}"


def _login_throttle_hit(*, key: str) -> None:
    attempts_allowed, window = _login_rate_limit()
    now = time.time()
    # The window starts at the first attempt (add() is atomic, so concurrent first attempts agree) and
    # names its own counter: some cache backends reset a key's expiry on incr(), so the counter's TTL
    # cannot be trusted to end the window.
    started_key = f"{key}:started"
    cache.add(started_key, now, timeout=window)
    started = cache.get(started_key)
    if started is None:  # expired between add() and get(): a new window starts now
        cache.add(started_key, now, timeout=window)
        started = cache.get(started_key, now)
    counter_key = f"{key}:{int(started * 1000)}"
    cache.add(counter_key, 0, timeout=window)
    try:
        attempts = cache.incr(counter_key)
    except ValueError:  # the counter expired between add() and incr()
        cache.add(counter_key, 1, timeout=window)
        attempts = 1
    if attempts > attempts_allowed:
        retry_after = max(1.0, started + window - now)
        raise RateLimited(
            f"Too many login attempts; try again in {int(retry_after + 0.999)} seconds.",
            retry_after=retry_after,
        )


def _login_throttle_reset(*, key: str) -> None:
    # Dropping the window start orphans its counter (it expires on its own); the next attempt
    # starts a fresh window.
    cache.delete(f"{key}:started")


# --- API keys ---------------------------------------------------------------------------------------

API_KEY_PREFIX_LENGTH = 8
API_KEY_SECRET_LENGTH = 40
API_KEY_MAX_LENGTH = 3 + API_KEY_PREFIX_LENGTH + 1 + API_KEY_SECRET_LENGTH
_KEY_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
# last_used_at is a convenience for admins; writing it on every request would cost a write per call.
API_KEY_TOUCH_INTERVAL = timedelta(seconds=60)


def api_key_hash(raw_key: str) -> str:
    """Keys are 238-bit random strings, so a keyed SHA-256 (not a slow password hash) is enough."""
    return salted_hmac("herald.accounts.api_key", raw_key, algorithm="sha256").hexdigest()


def api_key_create(
    *,
    name: str,
    owner: User | None = None,
    scopes: Iterable[str] = (),
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Creates a key and returns it with its plaintext, which is shown once and never stored."""
    api_key = ApiKey(name=name, owner=owner, scopes=list(scopes), expires_at=expires_at)
    plaintext = api_key_assign_secret(api_key=api_key)
    return api_key, plaintext


def api_key_assign_secret(*, api_key: ApiKey) -> str:
    """Gives an unsaved key its prefix and hash, saves it, and returns the plaintext (the admin uses this)."""
    try:
        validate_scopes(api_key.scopes)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="invalid_scopes") from exc
    if not api_key.name.strip():
        raise InvalidInput("An API key needs a name.", code="invalid_name")
    for _ in range(5):  # 36^8 prefixes: a collision is rare, two in a row rarer still
        prefix = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(API_KEY_PREFIX_LENGTH))
        secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(API_KEY_SECRET_LENGTH))
        plaintext = f"hk_{prefix}_{secret}"
        api_key.prefix = prefix
        api_key.key_hash = api_key_hash(plaintext)
        try:
            with transaction.atomic():
                api_key.save()
        except IntegrityError:
            continue
        return plaintext
    raise Conflict("Could not allocate a unique API key prefix; try again.", code="api_key_prefix_taken")


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active, unexpired key matching ``raw_key``, or None. Compares hashes in constant time."""
    if not raw_key or len(raw_key) > API_KEY_MAX_LENGTH:
        return None
    parts = raw_key.split("_")
    if len(parts) != 3 or parts[0] != "hk" or len(parts[1]) != API_KEY_PREFIX_LENGTH:
        return None
    api_key = ApiKey.objects.select_related("owner").filter(prefix=parts[1]).first()
    if api_key is None or not constant_time_compare(api_key.key_hash, api_key_hash(raw_key)):
        return None
    now = timezone.now()
    if not api_key.is_active or (api_key.expires_at is not None and api_key.expires_at <= now):
        return None
    if api_key.owner is not None and not api_key.owner.is_active:
        return None
    if api_key.last_used_at is None or now - api_key.last_used_at > API_KEY_TOUCH_INTERVAL:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_key_deactivate(*, api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk).update(is_active=False)
    api_key.is_active = False
