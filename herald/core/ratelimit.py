"""Token buckets shared by every process (GCRA): ``reserve`` books a slot and says how long to wait for it.

Booking instead of asking "may I send now?" means concurrent callers get increasing waits rather than all
retrying at once. Two backends behind one interface, chosen by ``settings.RATE_LIMIT_BACKEND``: ``redis`` (one
atomic Lua script, timed by the Redis server's clock) and ``database`` (one row per key, updated in a short
transaction that locks it; SQLite serialises writers, PostgreSQL uses ``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.db import DatabaseError, transaction

from herald.core.errors import ServiceUnavailable
from herald.core.models import RateLimitBucket


class RateLimiterUnavailable(ServiceUnavailable):
    code = "rate_limiter_unavailable"


@dataclass(frozen=True)
class Booking:
    """One bucket's share of a ``reserve_many``: book ``cost`` sends on ``key`` at ``rate_per_second``."""

    key: str
    rate_per_second: float
    cost: int = 1
    burst: int = 1

    @property
    def interval(self) -> float:
        return 1.0 / self.rate_per_second

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval


class Backend(Protocol):
    def reserve(self, key: str, *, interval: float, tolerance: float, cost: int, after: float) -> float: ...

    def reserve_many(self, bookings: Sequence[Booking]) -> list[float]: ...

    def purge(self, *, idle_seconds: float) -> int: ...


def _gcra(
    tat: float, *, now: float, interval: float, tolerance: float, cost: int, after: float
) -> tuple[float, float]:
    """(send_at, new_tat): the first conforming time from ``now + after`` on, and the bucket's new state."""
    send_at = max(now + after, tat - tolerance)
    return send_at, max(tat, send_at) + interval * cost


class DatabaseBackend:
    def reserve(self, key: str, *, interval: float, tolerance: float, cost: int, after: float) -> float:
        try:
            with transaction.atomic():
                # The insert comes first so that on SQLite the transaction holds the write lock before it
                # reads (whatever the transaction mode); on PostgreSQL the row lock below serialises callers.
                RateLimitBucket.objects.bulk_create(
                    [RateLimitBucket(key=key, tat=0.0)], ignore_conflicts=True
                )
                tat = RateLimitBucket.objects.select_for_update().values_list("tat", flat=True).get(key=key)
                now = time.time()
                send_at, new_tat = _gcra(
                    tat, now=now, interval=interval, tolerance=tolerance, cost=cost, after=after
                )
                RateLimitBucket.objects.filter(key=key).update(tat=new_tat)
        except DatabaseError as exc:
            raise RateLimiterUnavailable(f"the rate limiter's table is unavailable: {exc}") from exc
        return max(0.0, send_at - now)

    def reserve_many(self, bookings: Sequence[Booking]) -> list[float]:
        keys = list(dict.fromkeys(booking.key for booking in bookings))
        try:
            with transaction.atomic():
                RateLimitBucket.objects.bulk_create(
                    [RateLimitBucket(key=key, tat=0.0) for key in keys], ignore_conflicts=True
                )
                buckets = {
                    bucket.key: bucket
                    for bucket in RateLimitBucket.objects.select_for_update().filter(key__in=keys)
                }
                now = time.time()
                waits = []
                for booking in bookings:
                    bucket = buckets[booking.key]
                    send_at, bucket.tat = _gcra(
                        bucket.tat,
                        now=now,
                        interval=booking.interval,
                        tolerance=booking.tolerance,
                        cost=booking.cost,
                        after=0.0,
                    )
                    waits.append(max(0.0, send_at - now))
                RateLimitBucket.objects.bulk_update(buckets.values(), ["tat"], batch_size=500)
        except DatabaseError as exc:
            raise RateLimiterUnavailable(f"the rate limiter's table is unavailable: {exc}") from exc
        return waits

    def purge(self, *, idle_seconds: float) -> int:
        deleted, _ = RateLimitBucket.objects.filter(tat__lt=time.time() - idle_seconds).delete()
        return deleted


# KEYS[1] = bucket; ARGV = interval, tolerance, cost, after. Returns the wait as a string (Lua numbers
# returned to Redis are truncated to integers). The key expires once the bucket is full again.
_RESERVE_LUA = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local after = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1])) or 0
local send_at = math.max(now + after, tat - tolerance)
local new_tat = math.max(tat, send_at) + interval * cost
local ttl_ms = math.ceil((new_tat - now) * 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', ttl_ms)
return string.format('%.6f', send_at - now)
"""


class RedisBackend:
    def __init__(self, url: str) -> None:
        import redis

        # redis-py's pool notices a fork (pid check) and opens fresh connections in the child.
        self._redis = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._script = self._redis.register_script(_RESERVE_LUA)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)

    def reserve(self, key: str, *, interval: float, tolerance: float, cost: int, after: float) -> float:
        try:
            wait = self._script(keys=[f"herald:rl:{key}"], args=[interval, tolerance, cost, after])
        except self._errors as exc:
            raise RateLimiterUnavailable(f"the rate limiter's Redis is unavailable: {exc}") from exc
        return max(0.0, float(wait))

    def reserve_many(self, bookings: Sequence[Booking]) -> list[float]:
        pipeline = self._redis.pipeline(transaction=False)  # one round trip; each script stays atomic
        for booking in bookings:
            self._script(
                keys=[f"herald:rl:{booking.key}"],
                args=[booking.interval, booking.tolerance, booking.cost, 0.0],
                client=pipeline,
            )
        try:
            waits = pipeline.execute()
        except self._errors as exc:
            raise RateLimiterUnavailable(f"the rate limiter's Redis is unavailable: {exc}") from exc
        return [max(0.0, float(wait)) for wait in waits]

    def purge(self, *, idle_seconds: float) -> int:
        return 0  # keys expire by themselves


@lru_cache(maxsize=4)
def _backend_for(name: str, redis_url: str) -> Backend:
    if name == "redis":
        if not redis_url:
            raise ValueError("RATE_LIMIT_BACKEND is 'redis' but REDIS_URL is not set")
        return RedisBackend(redis_url)
    if name == "database":
        return DatabaseBackend()
    raise ValueError(f"unknown RATE_LIMIT_BACKEND {name!r}: use 'redis' or 'database'")


def backend() -> Backend:
    return _backend_for(settings.RATE_LIMIT_BACKEND, settings.REDIS_URL)


def reserve(key: str, *, rate_per_second: float, burst: int = 1, cost: int = 1, after: float = 0.0) -> float:
    """Book ``cost`` sends on bucket ``key``; returns the seconds to wait before sending (0.0 = now).

    ``burst`` sends may go back to back before the steady ``rate_per_second`` applies. ``after`` says the
    caller cannot send sooner anyway (e.g. it already waits for another bucket), so the slot is booked then.
    """
    if rate_per_second <= 0:
        raise ValueError("rate_per_second must be positive")
    if burst < 1 or cost < 1:
        raise ValueError("burst and cost must be at least 1")
    interval = 1.0 / rate_per_second
    return backend().reserve(
        key, interval=interval, tolerance=(burst - 1) * interval, cost=cost, after=max(0.0, after)
    )


def reserve_many(bookings: Sequence[Booking]) -> list[float]:
    """Book several buckets at once (one transaction, or one round trip to Redis); the wait for each, in
    order. A key booked twice gets consecutive slots."""
    for booking in bookings:
        if booking.rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        if booking.burst < 1 or booking.cost < 1:
            raise ValueError("burst and cost must be at least 1")
    if not bookings:
        return []
    return backend().reserve_many(bookings)


def purge_idle_buckets(*, idle_seconds: float = 3600.0) -> int:
    """Delete buckets that have been full (idle) for a while; only the database backend keeps them."""
    return backend().purge(idle_seconds=idle_seconds)
