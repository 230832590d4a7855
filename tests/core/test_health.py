"""`/health` and `/metrics` as a monitoring system sees them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from herald.core import views
from herald.core.models import WorkerHeartbeat
from herald.core.services import worker_heartbeat_record


@pytest.mark.django_db
def test_health_reports_each_dependency(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "cache"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_health_is_503_and_names_the_failing_dependency(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_cache() -> None:
        raise ConnectionError("cache server refused the connection")

    monkeypatch.setitem(views.CHECKS, "cache", broken_cache)
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["cache"] == {
        "ok": False,
        "error": "ConnectionError: cache server refused the connection",
    }
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_metrics_count_requests_by_route(client: Client) -> None:
    client.get("/health")
    text = client.get("/metrics").content.decode()
    assert 'herald_http_requests_total{method="GET",route="/health",status="200"}' in text


def test_unknown_api_route_is_json_404(client: Client) -> None:
    response = client.get("/api/no/such/thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_wrong_method_is_json_405_that_names_the_allowed_methods(client: Client) -> None:
    response = client.post("/health")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "GET"


@pytest.mark.django_db
def test_health_reports_a_stale_worker_but_stays_up(client: Client) -> None:
    worker_heartbeat_record(hostname="worker@gone", seen_at=timezone.now() - timedelta(minutes=5))
    response = client.get("/health")
    assert response.status_code == 200
    report = response.json()["worker"]
    assert report["hostname"] == "worker@gone"
    assert report["stale"] is True
    assert 300 <= report["last_seen_seconds_ago"] < 310
    assert report["last_seen"] == f"{report['last_seen_seconds_ago']} s ago"


@pytest.mark.django_db
def test_health_names_the_most_recently_seen_worker(client: Client) -> None:
    worker_heartbeat_record(hostname="worker@old", seen_at=timezone.now() - timedelta(minutes=5))
    worker_heartbeat_record(hostname="worker@new")
    report = client.get("/health").json()["worker"]
    assert report["hostname"] == "worker@new"
    assert report["stale"] is False


@pytest.mark.django_db
def test_workers_gone_for_a_week_are_forgotten(client: Client) -> None:
    worker_heartbeat_record(hostname="worker@replaced-container", seen_at=timezone.now() - timedelta(days=8))
    worker_heartbeat_record(hostname="worker@yesterday", seen_at=timezone.now() - timedelta(days=1))
    worker_heartbeat_record(hostname="worker@now")
    assert set(WorkerHeartbeat.objects.values_list("hostname", flat=True)) == {
        "worker@yesterday",
        "worker@now",
    }
