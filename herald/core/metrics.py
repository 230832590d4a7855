"""Prometheus metrics: HTTP requests by route, Celery tasks by name and outcome, Telegram calls by method.

With several processes on one host (web, worker, beat) set ``PROMETHEUS_MULTIPROC_DIR`` for every process
and `/metrics` adds them up; ``make run`` does this. A worker on a host (or container) without a web process
serves its own metrics on ``HERALD_WORKER_METRICS_PORT``.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter("herald_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "herald_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASKS = Counter("herald_celery_tasks_total", "Celery tasks run", ["task", "outcome"])
TASK_DURATION = Histogram("herald_celery_task_duration_seconds", "Celery task run time", ["task"])
TELEGRAM_CALLS = Counter(
    "herald_telegram_calls_total", "Bot API calls made through the gateway", ["method", "outcome"]
)
TELEGRAM_LATENCY = Histogram("herald_telegram_call_duration_seconds", "Bot API call latency", ["method"])

_task_started: dict[str, float] = {}


def _on_prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _task_started[task_id] = time.perf_counter()


def _on_postrun(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any) -> None:
    name = getattr(task, "name", "unknown")
    TASKS.labels(task=name, outcome=(state or "unknown").lower()).inc()
    started = _task_started.pop(task_id or "", None)
    if started is not None:
        TASK_DURATION.labels(task=name).observe(time.perf_counter() - started)


def _on_retry(sender: Any = None, **_: Any) -> None:
    TASKS.labels(task=getattr(sender, "name", "unknown"), outcome="retry").inc()


def _serve_worker_metrics(**_: Any) -> None:
    from django.conf import settings
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

    if not settings.HERALD_WORKER_METRICS_PORT:
        return
    registry = REGISTRY
    if settings.PROMETHEUS_MULTIPROC_DIR:  # prefork children count tasks in files; add them up
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(settings.HERALD_WORKER_METRICS_PORT, addr=settings.HERALD_HOST, registry=registry)


def connect_celery_signals() -> None:
    from celery import signals

    signals.worker_ready.connect(_serve_worker_metrics, weak=False, dispatch_uid="herald-metrics-serve")
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="herald-metrics-prerun")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="herald-metrics-postrun")
    signals.task_retry.connect(_on_retry, weak=False, dispatch_uid="herald-metrics-retry")
