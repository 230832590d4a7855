"""`/health` (database, broker, cache, last worker heartbeat), `/metrics` (Prometheus text), JSON errors."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from herald.core.middleware import (
    DATABASE_ERRORS,
    MACHINE_PATHS,
    database_unavailable,
    json_error,
    payload_too_large,
)
from herald.core.selectors import worker_status_latest


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_broker() -> None:
    from celery import current_app

    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)


def _check_cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("a value written to the cache could not be read back")
    cache.delete(key)


CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "broker": _check_broker,
    "cache": _check_cache,
}


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # a failing dependency is the answer here, not an error
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        else:
            results[name] = {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    healthy = all(r["ok"] for r in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results, "worker": _worker_report()},
        status=200 if healthy else 503,
    )


def _worker_report() -> dict[str, Any]:
    # Reported, not checked: web keeps serving while workers restart, so a stale worker is no 503.
    try:
        status = worker_status_latest()
    except Exception as exc:  # the database check above already says why
        return {"last_seen": None, "stale": True, "error": f"{type(exc).__name__}: {exc}"}
    age = status.last_seen_seconds_ago
    last_seen = "never" if age is None else f"{age} s ago"
    return {
        "hostname": status.hostname,
        "last_seen": last_seen,
        "last_seen_seconds_ago": age,
        "stale": status.stale,
    }


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    registry = REGISTRY
    if settings.PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _html_or_json(status: int, default: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def handler(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        # Django calls the 500 handler while handling the error (without passing it): a database error
        # raised outside a view (a middleware saving the session) is a retryable 503 too.
        current = sys.exc_info()[1]
        if status == 500 and isinstance(current, DATABASE_ERRORS):
            return database_unavailable(request, current)
        # Django reports a body over the size limit as a 400 (it is a SuspiciousOperation); it is a 413
        if isinstance(exception, RequestDataTooBig):
            return payload_too_large(request)
        if request.path.startswith(MACHINE_PATHS):
            return json_error(request, status)
        return default(request, exception) if exception is not None else default(request)

    return handler


def _django_defaults() -> tuple[Callable[..., HttpResponse], ...]:
    from django.views import defaults

    return defaults.bad_request, defaults.permission_denied, defaults.page_not_found, defaults.server_error


_bad_request, _permission_denied, _page_not_found, _server_error = _django_defaults()
handler400 = _html_or_json(400, _bad_request)
handler403 = _html_or_json(403, _permission_denied)
handler404 = _html_or_json(404, _page_not_found)
handler500 = _html_or_json(500, _server_error)
