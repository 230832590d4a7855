"""The one Ninja API: every app's router mounted at the seed's paths, and errors as ``{code, message}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema

from herald.core.errors import HeraldError
from herald.core.middleware import DATABASE_RETRY_AFTER_SECONDS, payload_too_large
from herald.core.openapi import document_error_responses


class HeraldAPI(NinjaAPI):
    """A NinjaAPI whose OpenAPI document also lists the JSON error answers (400/401/404) of each operation."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        document = super().get_openapi_schema(**kwargs)
        document_error_responses(document)
        return document


api = HeraldAPI(
    title="Herald API",
    version="1",
    description="Bots, channel studio, wallet, deal alerts and brand content, on one platform.",
    urls_namespace="api",
)


def _field_path(loc: list | tuple) -> str:
    # ninja reports ("body", "payload", "username"); people want "username"
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "header", "form")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "field": _field_path(e.get("loc", ())),
            "message": e.get("msg", "invalid value"),
            "type": e.get("type"),
        }
        for e in exc.errors
    ]
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "Invalid request."
    return api.create_response(
        request, {"code": "invalid_request", "message": message, "errors": errors}, status=400
    )


@api.exception_handler(HeraldError)
def on_herald_error(request: HttpRequest, exc: HeraldError) -> HttpResponse:
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    if "retry_after" in exc.details:
        response["Retry-After"] = str(exc.details["retry_after"])
    return response


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"code": "unauthorized", "message": "Authentication credentials were missing or invalid."},
        status=401,
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(
        request, {"code": "not_found", "message": str(exc) or "No such object."}, status=404
    )


@api.exception_handler(RequestDataTooBig)
def on_request_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # answered here too, so DEBUG mode gives the same 413 instead of ninja's traceback page
    return payload_too_large(request)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The database is down or locked for too long: a retryable 503, not a 500 (nothing was half-written,
    since every write is one transaction that the error rolled back)."""
    response = api.create_response(
        request,
        {
            "code": "service_unavailable",
            "message": "The database is unavailable; retry shortly.",
            "retry_after": DATABASE_RETRY_AFTER_SECONDS,
        },
        status=503,
    )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"code": "http_error", "message": str(exc)}, status=exc.status_code)


def _mount_routers() -> None:
    from herald.accounts.api import router as auth_router

    api.add_router("/v1/auth/", auth_router)

    from herald.bots.api import router as bots_router
    from herald.bots.api import webhook_router

    api.add_router("/bots", bots_router)
    api.add_router("/webhook", webhook_router)

    from herald.wallet import api as wallet_api

    api.add_router("/v1/offers/", wallet_api.offers_router)
    api.add_router("/v1/account/", wallet_api.account_router)
    api.add_router("/v1/activation/", wallet_api.activation_router)
    api.add_router("/v1/partner/", wallet_api.partner_router)
    api.add_router("/v1/manage/", wallet_api.manage_router)


_mount_routers()
