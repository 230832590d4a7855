"""HTTP for the sandbox: the Bot API, file downloads, the JSON control API and the browser chat page."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from herald.telegram.sandbox import services
from herald.telegram.sandbox.botapi import bot_api_call
from herald.telegram.sandbox.delivery import delivery_thread_ensure
from herald.telegram.sandbox.errors import ControlError
from herald.telegram.sandbox.files import file_storage_path
from herald.telegram.sandbox.limits import limits_enabled, limits_set
from herald.telegram.sandbox.models import Bot, Chat, File, Update, User
from herald.telegram.sandbox.registry import bot_by_token
from herald.telegram.sandbox.spec import clean_strings, json_loads_strict

logger = logging.getLogger(__name__)

_JSON_DUMPS = {"ensure_ascii": False}
_INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _telegram_json(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/json",
    )


def _request_params(request: HttpRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """Query string, then form or JSON body, as Telegram reads them; uploaded files apart."""
    raw: dict[str, Any] = dict(request.GET.items())
    files: dict[str, Any] = {}
    if request.method == "POST":
        content_type = request.content_type or ""
        if content_type == "application/json":
            body = json_loads_strict(request.body or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the JSON body must be an object")
            raw.update(body)
        else:
            raw.update(request.POST.items())
            files = dict(request.FILES.items())
    return raw, files


def _ensure_delivery() -> None:
    if settings.SANDBOX_DELIVERY_THREAD:
        delivery_thread_ensure()


@csrf_exempt
def bot_api(request: HttpRequest, token: str, method: str) -> HttpResponse:
    """``/sandbox/bot<token>/<method>``: GET or POST, query/form/multipart/JSON, like api.telegram.org."""
    _ensure_delivery()
    if request.method not in ("GET", "POST"):
        return _telegram_json(405, {"ok": False, "error_code": 405, "description": "Method Not Allowed"})
    try:
        raw, files = _request_params(request)
    except RequestDataTooBig:
        return _telegram_json(
            413, {"ok": False, "error_code": 413, "description": "Request Entity Too Large"}
        )
    except (ValueError, MultiPartParserError, BadRequest) as error:
        return _telegram_json(
            400, {"ok": False, "error_code": 400, "description": f"Bad Request: can't parse request: {error}"}
        )
    try:
        status, body = bot_api_call(token=token, method_name=method, raw=raw, files=files)
    except Exception:  # a bug: logged, and still answered in Telegram's shape
        logger.exception("sandbox Bot API call %s failed", method)
        status, body = 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
    return _telegram_json(status, body)


def bot_api_not_found(request: HttpRequest, **_: Any) -> HttpResponse:
    return _telegram_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})


def file_download(request: HttpRequest, token: str, file_path: str) -> HttpResponseBase:
    """``/sandbox/file/bot<token>/<file_path>``: a file's bytes, as getFile's file_path promises."""
    if bot_by_token(token) is None:
        return _telegram_json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    return _file_response(
        File.objects.filter(file_path=file_path).first() if "\x00" not in file_path else None
    )


def _file_response(file: File | None) -> HttpResponseBase:
    if file is None or not file_storage_path(file).is_file():
        return _telegram_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
    # Uploaded bytes are shown inline only when they are a plain image: an uploaded HTML or SVG file
    # served inline from Herald's origin could run script.
    inline = file.mime_type in _INLINE_TYPES
    return FileResponse(
        file_storage_path(file).open("rb"),
        content_type=file.mime_type if inline else "application/octet-stream",
        as_attachment=not inline,
        filename=file.file_name or file.file_path.rsplit("/", 1)[-1],
    )


# --- control API --------------------------------------------------------------------------------


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status, json_dumps_params=_JSON_DUMPS)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if request.content_type and request.content_type.startswith("multipart/"):
        body: Any = dict(request.POST.items())
    else:
        try:
            body = json_loads_strict(request.body or b"{}")
        except ValueError as error:
            raise ControlError(f"the body is not valid JSON: {error}", code="malformed_json") from None
        if not isinstance(body, dict):
            raise ControlError("the body must be a JSON object", code="malformed_json")
    try:
        return dict(clean_strings(body))
    except ValueError as error:
        raise ControlError(str(error)) from None


ControlView = Callable[..., Any]


def control(*methods: str) -> Callable[[ControlView], Callable[..., HttpResponseBase]]:
    """A CSRF-exempt JSON endpoint: errors become ``{code, message}`` with a 4xx, never a 500 page."""

    def decorate(view: ControlView) -> Callable[..., HttpResponseBase]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            _ensure_delivery()
            if request.method not in methods:
                return _error(405, "method_not_allowed", f"use {' or '.join(methods)} on {request.path}")
            try:
                result = view(request, *args, **kwargs)
            except ControlError as error:
                return _error(error.status, error.code, error.message)
            except RequestDataTooBig:
                return _error(413, "payload_too_large", "the request body is too large")
            except (MultiPartParserError, BadRequest) as error:
                return _error(400, "bad_request", f"the request could not be read: {error}")
            except (OperationalError, InterfaceError):
                raise  # not a bug: the middleware answers 503 with Retry-After
            except Exception:  # a bug: logged, and still answered as JSON
                logger.exception("sandbox control API %s failed", request.path)
                return _error(500, "server_error", "the sandbox failed on this request; it has been logged")
            if isinstance(result, HttpResponseBase):
                return result
            status = 201 if request.method == "POST" and isinstance(result, dict) and "id" in result else 200
            return JsonResponse(result, status=status, safe=False, json_dumps_params=_JSON_DUMPS)

        return wrapper

    return decorate


def _str(body: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise ControlError(f'"{key}" is required')
        return ""
    if not isinstance(value, str):
        raise ControlError(f'"{key}" must be a string')
    return value


def _int(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if value is None or value == "":
        raise ControlError(f'"{key}" is required')
    if isinstance(value, bool):
        raise ControlError(f'"{key}" must be an integer')
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(f'"{key}" must be an integer') from None


def _bot_ref(body: dict[str, Any]) -> Bot:
    ref = body.get("bot")
    if ref is None or ref == "":
        raise ControlError('"bot" is required')
    if not isinstance(ref, str | int) or isinstance(ref, bool):
        raise ControlError('"bot" must be a bot username or id')
    return services.sandbox_bot_get(bot=ref)


def _bot_public(bot: Bot) -> dict[str, Any]:
    return {
        "id": bot.id,
        "username": bot.username,
        "first_name": bot.first_name,
        "webhook_url": bot.webhook_url,
        "commands": bot.commands,
    }


@control("GET", "POST")
def bots(request: HttpRequest) -> Any:
    if request.method == "GET":
        return [_bot_public(bot) for bot in Bot.objects.order_by("username")]
    body = _json_body(request)
    bot = services.sandbox_bot_create(
        username=_str(body, "username", required=True), first_name=_str(body, "first_name")
    )
    return {"id": bot.id, "token": bot.token, "username": bot.username}


@control("GET", "POST")
def users(request: HttpRequest) -> Any:
    if request.method == "GET":
        return [
            {"id": u.id, "first_name": u.first_name, "username": u.username or None}
            for u in User.objects.order_by("id")
        ]
    body = _json_body(request)
    user = services.sandbox_user_create(
        first_name=_str(body, "first_name", required=True),
        last_name=_str(body, "last_name"),
        username=_str(body, "username"),
        language_code=_str(body, "language_code"),
    )
    return {"id": user.id}


def _chats_view(chat_type: str) -> Callable[..., HttpResponseBase]:
    types = [chat_type] if chat_type == Chat.Type.CHANNEL else [Chat.Type.SUPERGROUP, Chat.Type.GROUP]

    @control("GET", "POST")
    def view(request: HttpRequest) -> Any:
        if request.method == "GET":
            return [
                {
                    "id": chat.id,
                    "title": chat.title,
                    "username": chat.username or None,
                    "admins": [bot.username for bot in chat.admins.all()],
                }
                for chat in Chat.objects.filter(type__in=types, migrated_to_chat_id__isnull=True)
                .prefetch_related("admins")
                .order_by("title")
            ]
        body = _json_body(request)
        admins = body.get("admins", [])
        kind = chat_type
        if chat_type == Chat.Type.SUPERGROUP and body.get("type") not in (None, "", "supergroup"):
            if body.get("type") != "group":
                raise ControlError('"type" must be "supergroup" (the default) or "group" (a basic group)')
            kind = Chat.Type.GROUP
        chat = services.sandbox_chat_create(
            chat_type=kind,
            title=_str(body, "title", required=True),
            username=_str(body, "username"),
            admins=admins,
        )
        return {"id": chat.id}

    return view


channels = _chats_view(Chat.Type.CHANNEL)
groups = _chats_view(Chat.Type.SUPERGROUP)


@control("POST")
def send(request: HttpRequest) -> Any:
    body = _json_body(request)
    bot = _bot_ref(body)
    user = services.sandbox_user_get(user_id=body.get("from"), field="from")
    chat = services.sandbox_chat_get(chat_id=body["chat"]) if body.get("chat") not in (None, "") else None
    upload_kind = next((kind for kind in services.MEDIA_KINDS if kind in request.FILES), "")
    sent = services.sandbox_user_send(
        bot=bot,
        from_user=user,
        chat=chat,
        text=_str(body, "text"),
        caption=_str(body, "caption"),
        upload=request.FILES.get(upload_kind) if upload_kind else None,
        media_type=upload_kind,
    )
    return {"update_id": sent.update_id, "message_id": sent.message_id}


@control("POST")
def press(request: HttpRequest) -> Any:
    body = _json_body(request)
    bot = _bot_ref(body)
    update_id = services.sandbox_user_press(
        bot=bot,
        from_user=services.sandbox_user_get(user_id=body.get("from"), field="from"),
        message_id=_int(body, "message_id"),
        data=_str(body, "data", required=True),
    )
    payload = Update.objects.values_list("payload", flat=True).get(bot=bot, update_id=update_id)
    return {"update_id": update_id, "callback_query_id": payload["callback_query"]["id"]}


@control("GET")
def callback_answer(request: HttpRequest, callback_query_id: str) -> Any:
    if "\x00" in callback_query_id:
        raise ControlError("no such callback query", code="unknown_callback_query", status=404)
    return services.sandbox_callback_answer(callback_query_id=callback_query_id)


@control("POST")
def react(request: HttpRequest) -> Any:
    body = _json_body(request)
    if "chat" not in body:
        raise ControlError('"chat" is required')
    update_id = services.sandbox_react(
        bot=_bot_ref(body),
        chat=services.sandbox_chat_get(chat_id=body["chat"]),
        message_id=_int(body, "message_id"),
        reactions=body.get("reactions"),  # type: ignore[arg-type]  # checked by the service
    )
    return {"update_id": update_id}


@control("POST")
def members(request: HttpRequest) -> Any:
    body = _json_body(request)
    update_id = services.sandbox_member_set(
        bot=_bot_ref(body),
        user=services.sandbox_user_get(user_id=body.get("user")),
        status=_str(body, "status", required=True),
    )
    return {"update_id": update_id}


@control("POST")
def redeliver(request: HttpRequest) -> Any:
    body = _json_body(request)
    update = services.sandbox_redeliver(bot=_bot_ref(body), update_id=_int(body, "update_id"))
    return {"update_id": update.update_id, "state": update.state}


@control("POST")
def migrate(request: HttpRequest) -> Any:
    body = _json_body(request)
    if body.get("chat") in (None, ""):
        raise ControlError('"chat" is required')
    supergroup = services.sandbox_group_migrate(chat=services.sandbox_chat_get(chat_id=body["chat"]))
    return {"id": supergroup.id}


def _query(request: HttpRequest, key: str) -> str:
    value = request.GET.get(key, "")
    if "\x00" in value:
        raise ControlError(f'"{key}" must not contain NUL characters')
    return value


@control("GET")
def chat_messages(request: HttpRequest, chat_id: str) -> Any:
    chat = services.sandbox_chat_get(chat_id=chat_id)
    bot_ref = _query(request, "bot")
    bot = services.sandbox_bot_get(bot=bot_ref) if bot_ref else None
    limit = _query(request, "limit") or None
    if limit is not None and not limit.isdigit():
        raise ControlError('"limit" must be a positive integer')
    return services.sandbox_chat_messages(chat=chat, bot=bot, limit=int(limit) if limit else None)


@control("GET")
def calls(request: HttpRequest) -> Any:
    bot_ref = _query(request, "bot")
    if not bot_ref:
        raise ControlError('"bot" is required (?bot=<username>)')
    return services.sandbox_calls(bot=services.sandbox_bot_get(bot=bot_ref))


@control("GET", "POST")
def limits(request: HttpRequest) -> Any:
    if request.method == "POST":
        enabled = _json_body(request).get("enabled")
        if not isinstance(enabled, bool):
            raise ControlError('"enabled" must be true or false')
        limits_set(enabled=enabled)
    return {"enabled": limits_enabled()}


@control("GET")
def file_bytes(request: HttpRequest, file_unique_id: str) -> Any:
    found = (
        File.objects.filter(file_unique_id=file_unique_id).first() if "\x00" not in file_unique_id else None
    )
    return _file_response(found)


@control("GET", "POST", "PUT", "PATCH", "DELETE")
def control_not_found(request: HttpRequest, rest: str = "") -> Any:
    raise ControlError(f"no such sandbox endpoint: {request.path}", code="not_found", status=404)


def chat_page(request: HttpRequest) -> HttpResponse:
    """The browser chat: talk to any sandbox bot as a user, watch channels and groups fill."""
    _ensure_delivery()
    return render(request, "sandbox/chat.html", {})
