"""Telegram's webhook POSTs go straight to ingest, past the session, CSRF, auth and messages middleware
and the URL resolver, which a machine posting JSON with a secret header does not need.

Put ``WebhookFastPathMiddleware`` right after the metrics middleware. It answers exactly as the documented
API operation ``POST /api/webhook/{bot_id}`` does (``herald.bots.api.receive_update``); any other request,
or a webhook path it does not recognise, goes down the normal chain.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch

from herald.bots.ingest import webhook_receive
from herald.core.errors import HeraldError
from herald.core.middleware import json_error, payload_too_large

PREFIX = "/api/webhook/"
_PATH = re.compile(r"/api/webhook/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\Z")
# the route label the request metrics use for this operation, as the resolver would give it
ROUTE = "api/webhook/<uuidstr:bot_id>"
DATABASE_RETRY_AFTER_SECONDS = 5
JSON = "application/json; charset=utf-8"
_ACCEPTED = json.dumps({"ok": True, "duplicate": False}).encode()
_DUPLICATE = json.dumps({"ok": True, "duplicate": True}).encode()


def _view(request: HttpRequest, bot_id: uuid.UUID) -> HttpResponse:
    try:
        request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware would check it
        result = webhook_receive(
            bot_id=bot_id, secret=request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body=request.body
        )
    except HeraldError as exc:
        return HttpResponse(json.dumps(exc.as_dict()), status=exc.status, content_type=JSON)
    except RequestDataTooBig:
        return payload_too_large(request)
    except DisallowedHost:
        return json_error(request, 400)
    except (OperationalError, InterfaceError):
        # the database is down or locked too long: Telegram retries a 503 later, nothing was half-written
        response = HttpResponse(
            json.dumps(
                {
                    "code": "service_unavailable",
                    "message": "The database is unavailable; retry shortly.",
                    "retry_after": DATABASE_RETRY_AFTER_SECONDS,
                }
            ),
            status=503,
            content_type=JSON,
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(_DUPLICATE if result.duplicate else _ACCEPTED, content_type=JSON)


class WebhookFastPathMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path_info.startswith(PREFIX):
            match = _PATH.match(request.path_info)
            if match is not None:
                bot_id = uuid.UUID(match[1])
                request.resolver_match = ResolverMatch(_view, (), {"bot_id": bot_id}, route=ROUTE)
                return _view(request, bot_id)
        return self.get_response(request)
