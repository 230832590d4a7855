"""The database briefly unavailable: the API and every page answer 503 with a retry hint, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings as SettingsWrapper

from config.urls import handler500
from herald.accounts.models import User
from tests.factories import DEFAULT_PASSWORD


@pytest.mark.django_db
def test_api_answers_503_with_retry_after_when_the_database_is_down(
    client: Client, staff_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: BaseDatabaseWrapper, *args: object, **kwargs: object) -> None:
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    response = client.post(
        "/api/v1/auth/login/",
        {"username": staff_user.username, "password": DEFAULT_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "code": "service_unavailable",
        "message": "The database is unavailable; retry shortly.",
        "retry_after": 5,
    }


# --- Every other route: the admin, the sandbox ------------------------------------------------------

DATABASE_ERRORS = [
    "could not connect to server: Connection refused",
    "database is locked",
]


def _refuse_database(monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    def refuse(self: BaseDatabaseWrapper, *args: object, **kwargs: object) -> None:
        raise OperationalError(message)

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)


@pytest.fixture
def staff_browser(staff_user: User) -> Client:
    """A logged-in staff member's browser; errors come back as responses, as a real browser sees them."""
    browser = Client(raise_request_exception=False, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    browser.force_login(staff_user)
    return browser


def _assert_unavailable_page(response: Any) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "briefly unavailable" in page
    assert "Traceback" not in page and "OperationalError" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("message", DATABASE_ERRORS)
def test_admin_answers_a_503_page_with_retry_after_when_the_database_is_unavailable(
    staff_browser: Client, monkeypatch: pytest.MonkeyPatch, message: str
) -> None:
    _refuse_database(monkeypatch, message)
    _assert_unavailable_page(staff_browser.get("/admin/"))
    _assert_unavailable_page(staff_browser.get("/admin/accounts/user/"))


@pytest.mark.django_db
def test_a_tracked_link_answers_the_503_page_when_the_database_is_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _refuse_database(monkeypatch, "database is locked")
    reader = Client(raise_request_exception=False, HTTP_ACCEPT="text/html,*/*;q=0.8")
    _assert_unavailable_page(reader.get("/r/abc123"))


@pytest.mark.django_db
def test_admin_page_shows_no_traceback_in_debug_mode_either(
    staff_browser: Client, monkeypatch: pytest.MonkeyPatch, settings: SettingsWrapper
) -> None:
    settings.DEBUG = True
    _refuse_database(monkeypatch, "database is locked")
    _assert_unavailable_page(staff_browser.get("/admin/"))


@pytest.mark.django_db
def test_a_client_asking_for_json_gets_the_api_shaped_503(
    staff_browser: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_database(monkeypatch, "database is locked")
    for path in ("/admin/", "/sandbox/api/bots"):
        response = staff_browser.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 503, path
        assert response["Retry-After"] == "5"
        assert response.json() == {
            "code": "service_unavailable",
            "message": "The database is unavailable; retry shortly.",
            "retry_after": 5,
        }


@pytest.mark.django_db
def test_sandbox_control_api_answers_503_not_500(monkeypatch: pytest.MonkeyPatch) -> None:
    _refuse_database(monkeypatch, "could not connect to server: Connection refused")
    response = Client(raise_request_exception=False).post(
        "/sandbox/api/users", {"first_name": "Ann"}, content_type="application/json"
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "service_unavailable"


def test_a_database_error_outside_a_view_is_a_503_too(rf: RequestFactory) -> None:
    # Django hands an error raised by a middleware (saving the session, say) to the 500 handler
    request = rf.get("/admin/", HTTP_ACCEPT="text/html")
    try:
        raise OperationalError("database is locked")
    except OperationalError:
        response = handler500(request)
    _assert_unavailable_page(response)
