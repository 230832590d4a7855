"""Abstract base models shared by every app, and the worker heartbeat that `/health` reports."""

from __future__ import annotations

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran the periodic heartbeat task; one row per worker host name."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "worker heartbeat"

    def __str__(self) -> str:
        return f"{self.hostname} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class RateLimitBucket(models.Model):
    """A bucket of the database rate limiter: its theoretical arrival time (GCRA), in epoch seconds."""

    key = models.CharField(max_length=200, primary_key=True)
    tat = models.FloatField(default=0.0)

    class Meta:
        db_table = "core_ratelimit_bucket"

    def __str__(self) -> str:
        return self.key


class Lease(models.Model):
    """One of a few numbered places a process may hold for a while (``herald.core.leases``)."""

    key = models.CharField(max_length=200, primary_key=True)
    holder = models.CharField(
        max_length=100, blank=True, help_text="The holder's claim tag (claim@host:pid)."
    )
    expires_at = models.FloatField(default=0.0, help_text="Epoch seconds; free from then on.")

    class Meta:
        db_table = "core_lease"

    def __str__(self) -> str:
        return self.key
