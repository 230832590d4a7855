"""Users (roles via groups and flags), refresh-token families for JWT rotation, and API keys."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

SCOPE_PATTERN = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")


class UserManager(DjangoUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        """Login by username or email, case-insensitively (used by Django's auth backend too).

        A username match wins over an email match: usernames may contain "@", so one person's
        username can equal another's email.
        """
        value = (username or "").strip()
        user = self.filter(username__iexact=value).first()
        if user is None:
            user = self.filter(email__iexact=value).first()
        if user is None:
            raise self.model.DoesNotExist(f"No user with username or email {value!r}.")
        return user


class User(AbstractUser):
    """A person who uses Herald. Roles are Django groups; ``is_staff`` opens the admin and staff APIs."""

    email = models.EmailField("email address", unique=True)

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        db_table = "accounts_user"
        constraints = [
            # Login looks users up case-insensitively, so "Bob" and "bob" must not both exist.
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with that email address already exists.",
            ),
        ]


class TokenFamily(models.Model):
    """One login: every refresh token rotated from it, and the access tokens they minted (``fid`` claim)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="token_families")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)

    class Meta:
        verbose_name = "refresh-token family"
        verbose_name_plural = "refresh-token families"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} · {self.id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class RefreshToken(models.Model):
    """One issued refresh token. It is good for one rotation; ``used_at`` set means it was spent."""

    jti = models.CharField(max_length=64, unique=True)
    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="tokens")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issued_at", "id"]

    def __str__(self) -> str:
        return self.jti


def validate_scopes(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(s, str) and SCOPE_PATTERN.match(s) for s in value):
        raise ValidationError(
            'Scopes must be a list of lowercase names such as ["partner", "watch:scrape"].',
            code="invalid_scopes",
        )


class ApiKey(models.Model):
    """A key for a partner or an internal service. Only a keyed hash of the key is stored."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, blank=True, validators=[validate_scopes])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (hk_{self.prefix}_…)"
