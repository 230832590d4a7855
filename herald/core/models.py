"""Abstract base models shared by every app."""

from __future__ import annotations

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class RateLimitBucket(models.Model):
    """A bucket of the database rate limiter: its theoretical arrival time (GCRA), in epoch seconds."""

    key = models.CharField(max_length=200, primary_key=True)
    tat = models.FloatField(default=0.0)

    class Meta:
        db_table = "core_ratelimit_bucket"

    def __str__(self) -> str:
        return self.key
