from __future__ import annotations

import pytest
from django.test import Client

from herald.core import views


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
