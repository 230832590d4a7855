"""Request metrics, JSON (never an HTML page) for errors on machine-facing paths, and a retryable 503
instead of a 500 wherever the database is down or locked too long."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from herald.core.metrics import HTTP_LATENCY, HTTP_REQUESTS

MACHINE_PATHS = ("/api/", "/health", "/metrics")
# what a client is told to wait before retrying when the database is unavailable
DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)

logger = logging.getLogger(__name__)


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = "/" + match.route if match is not None and match.route else "unmatched"
        HTTP_REQUESTS.labels(method=request.method, route=route, status=str(response.status_code)).inc()
        HTTP_LATENCY.labels(method=request.method, route=route).observe(time.perf_counter() - started)
        return response


class JsonErrorMiddleware:
    """Turns Django's HTML error pages on API paths into ``{"code", "message"}`` JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(MACHINE_PATHS)
            and not response.get("Content-Type", "").startswith("application/json")
            and not request.path.startswith("/metrics")
        ):
            replacement = json_error(request, response.status_code)
            if response.has_header("Allow"):  # a 405 must say which methods are allowed
                replacement["Allow"] = response["Allow"]
            return replacement
        return response


_MESSAGES = {
    400: ("bad_request", "The request could not be read: check the body's format and size."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "No such endpoint: {path}"),
    405: ("method_not_allowed", "Method {method} is not allowed on {path}."),
    413: ("payload_too_large", "The request body is too large."),
    500: ("server_error", "Something went wrong on our side; it has been logged."),
}


def json_error(request: HttpRequest, status: int) -> JsonResponse:
    code, message = _MESSAGES.get(status, ("error", "The request failed."))
    return JsonResponse(
        {"code": code, "message": message.format(path=request.path, method=request.method)}, status=status
    )


def payload_too_large(request: HttpRequest) -> JsonResponse:
    """413 naming the limit, for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django's RequestDataTooBig)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return JsonResponse(
        {
            "code": "payload_too_large",
            "message": (
                f"The request body is larger than the {limit} bytes this server accepts "
                "(DATA_UPLOAD_MAX_MEMORY_SIZE, set by HERALD_MAX_BODY_BYTES)."
            ),
            "max_bytes": limit,
        },
        status=413,
    )


class DatabaseUnavailableMiddleware:
    """The database down or locked too long while a view runs: 503 with Retry-After, never a 500 page.

    The API answers this itself (config/api.py); this covers every other route: the admin, the sandbox.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            return database_unavailable(request, exception)
        return None


def _wants_json(request: HttpRequest) -> bool:
    if request.path.startswith(MACHINE_PATHS) or request.content_type == "application/json":
        return True
    # a browser lists text/html first; a client that asks for JSON (or only JSON) gets JSON
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and request.get_preferred_type(["text/html", "application/json"]) == (
        "application/json"
    )


def database_unavailable(request: HttpRequest, exception: BaseException) -> HttpResponse:
    """503 with Retry-After: a small HTML page, or the API's JSON for clients that ask for JSON.

    Nothing is half-written: every write is one transaction, which the error rolled back.
    """
    logger.warning("database unavailable on %s %s: %s", request.method, request.path, exception)
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse(
            {
                "code": "service_unavailable",
                "message": "The database is unavailable; retry shortly.",
                "retry_after": DATABASE_RETRY_AFTER_SECONDS,
            },
            status=503,
        )
    else:
        # rendered without the request: context processors (user, messages) would query the database
        page = render_to_string(
            "core/service_unavailable.html", {"retry_after": DATABASE_RETRY_AFTER_SECONDS}
        )
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response
