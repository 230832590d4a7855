"""Herald's user model (from the first migration, so it can grow without a swap)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    email = models.EmailField("email address", unique=True)

    class Meta:
        db_table = "accounts_user"
