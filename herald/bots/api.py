"""The bots REST API at seed 001's paths, for staff (JWT) and API keys with the ``staff`` scope."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja.responses import Status

from herald.accounts.auth import staff_auth
from herald.bots import selectors, services
from herald.bots.ingest import webhook_receive
from herald.bots.models import BotFlow, Broadcast, TelegramBot
from herald.bots.schemas import (
    BotIn,
    BotOut,
    BotPatch,
    BroadcastIn,
    BroadcastOut,
    FlowIn,
    FlowOut,
    FlowResponseOut,
    StatsOut,
    WebhookAck,
    WebhookInfoOut,
)
from herald.core.errors import NotFound
from herald.core.schemas import ErrorOut

router = Router(tags=["bots"], auth=staff_auth())
webhook_router = Router(tags=["webhook"])

ERRORS: dict[int, type[ErrorOut]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _bot(bot_id: uuid.UUID) -> TelegramBot:
    return services.bot_get(bot_id=bot_id)


def _flow(bot: TelegramBot, flow_id: int) -> BotFlow:
    flow = BotFlow.objects.filter(bot=bot, pk=flow_id).first()
    if flow is None:
        raise NotFound(f"Bot {bot.pk} has no flow {flow_id}.", code="flow_not_found")
    return flow


@router.post("", response={201: BotOut, 409: ErrorOut, **ERRORS}, summary="Register a bot")
def create_bot(request: HttpRequest, payload: BotIn) -> Status[TelegramBot]:
    return Status(201, services.bot_create(name=payload.name, token=payload.token))


@router.get("", response={200: list[BotOut], **ERRORS}, summary="List bots")
def list_bots(request: HttpRequest) -> Any:
    return TelegramBot.objects.all()


@router.get("/{uuid:bot_id}", response={200: BotOut, **ERRORS}, summary="A bot")
def get_bot(request: HttpRequest, bot_id: uuid.UUID) -> TelegramBot:
    return _bot(bot_id)


@router.patch("/{uuid:bot_id}", response={200: BotOut, **ERRORS}, summary="Change a bot")
def patch_bot(request: HttpRequest, bot_id: uuid.UUID, payload: BotPatch) -> TelegramBot:
    fields = payload.model_dump(exclude_unset=True, exclude_none=True)
    blocks = {kind: fields.pop(kind) for kind in ("studio",) if kind in fields}
    return services.bot_update(bot=_bot(bot_id), kind_settings=blocks, **fields)


@router.delete("/{uuid:bot_id}", response={204: None, **ERRORS}, summary="Delete a bot")
def delete_bot(request: HttpRequest, bot_id: uuid.UUID) -> Status[None]:
    services.bot_delete(bot=_bot(bot_id))
    return Status(204, None)


@router.post("/{uuid:bot_id}/webhook", response={200: BotOut, **ERRORS}, summary="Set the bot's webhook")
def set_webhook(request: HttpRequest, bot_id: uuid.UUID) -> TelegramBot:
    return services.bot_webhook_set(bot=_bot(bot_id))


@router.delete("/{uuid:bot_id}/webhook", response={200: BotOut, **ERRORS}, summary="Remove the bot's webhook")
def delete_webhook(request: HttpRequest, bot_id: uuid.UUID) -> TelegramBot:
    return services.bot_webhook_delete(bot=_bot(bot_id))


@router.get(
    "/{uuid:bot_id}/webhook", response={200: WebhookInfoOut, **ERRORS}, summary="Telegram's webhook info"
)
def webhook_info(request: HttpRequest, bot_id: uuid.UUID) -> dict[str, Any]:
    return services.bot_webhook_info(bot=_bot(bot_id))


@router.get("/{uuid:bot_id}/stats", response={200: StatsOut, **ERRORS}, summary="Users, messages, flows")
def stats(request: HttpRequest, bot_id: uuid.UUID) -> dict[str, Any]:
    return selectors.bot_stats(bot=_bot(bot_id))


@router.get("/{uuid:bot_id}/flows", response={200: list[FlowOut], **ERRORS}, summary="The bot's flows")
def list_flows(request: HttpRequest, bot_id: uuid.UUID) -> Any:
    return BotFlow.objects.filter(bot=_bot(bot_id))


@router.post("/{uuid:bot_id}/flows", response={201: FlowOut, 409: ErrorOut, **ERRORS}, summary="Add a flow")
def create_flow(request: HttpRequest, bot_id: uuid.UUID, payload: FlowIn) -> Status[BotFlow]:
    return Status(201, services.flow_save(bot=_bot(bot_id), **payload.model_dump()))


@router.get("/{uuid:bot_id}/flows/{int:flow_id}", response={200: FlowOut, **ERRORS}, summary="A flow")
def get_flow(request: HttpRequest, bot_id: uuid.UUID, flow_id: int) -> BotFlow:
    return _flow(_bot(bot_id), flow_id)


@router.put(
    "/{uuid:bot_id}/flows/{int:flow_id}",
    response={200: FlowOut, 409: ErrorOut, **ERRORS},
    summary="Replace a flow",
)
def put_flow(request: HttpRequest, bot_id: uuid.UUID, flow_id: int, payload: FlowIn) -> BotFlow:
    bot = _bot(bot_id)
    return services.flow_save(bot=bot, flow=_flow(bot, flow_id), **payload.model_dump())


@router.delete("/{uuid:bot_id}/flows/{int:flow_id}", response={204: None, **ERRORS}, summary="Delete a flow")
def delete_flow(request: HttpRequest, bot_id: uuid.UUID, flow_id: int) -> Status[None]:
    services.flow_delete(flow=_flow(_bot(bot_id), flow_id))
    return Status(204, None)


class ResponsesQuery(Schema):
    format: Literal["json", "csv"] = "json"


@router.get(
    "/{uuid:bot_id}/flows/{int:flow_id}/responses",
    response={200: list[FlowResponseOut], **ERRORS},
    summary="Answers collected by a flow (JSON, or CSV with ?format=csv)",
)
def flow_responses(
    request: HttpRequest, bot_id: uuid.UUID, flow_id: int, query: Query[ResponsesQuery]
) -> Any:
    flow = _flow(_bot(bot_id), flow_id)
    rows = selectors.flow_responses(flow=flow)
    if query.format == "csv":
        return _csv(flow, rows)
    return rows


def _csv(flow: BotFlow, rows: list[dict[str, Any]]) -> HttpResponse:
    keys: list[str] = []
    for row in rows:
        keys.extend(key for key in row["answers"] if key not in keys)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["run_id", "chat_id", "username", "first_name", "started_at", "completed", *keys])
    for row in rows:
        writer.writerow(
            [
                row["run_id"],
                row["chat_id"],
                row["username"],
                row["first_name"],
                row["started_at"],
                row["completed"],
            ]
            + [row["answers"].get(key, "") for key in keys]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="flow-{flow.pk}-responses.csv"'
    return response


def _broadcast_out(broadcast: Broadcast, progress: dict[str, int] | None = None) -> dict[str, Any]:
    if progress is None:
        progress = selectors.broadcast_progress(broadcast=broadcast)
    return {
        "id": broadcast.pk,
        "status": "done" if progress["pending"] == 0 else "sending",
        "recipients": broadcast.recipients,
        "pending": progress["pending"],
        "sent": progress["sent"],
        "failed": progress["failed"],
        "created_at": broadcast.created_at,
    }


@router.post(
    "/{uuid:bot_id}/broadcasts", response={201: BroadcastOut, **ERRORS}, summary="Message every user"
)
def create_broadcast(request: HttpRequest, bot_id: uuid.UUID, payload: BroadcastIn) -> Status[dict[str, Any]]:
    broadcast = services.broadcast_create(bot=_bot(bot_id), text=payload.text, photo=payload.photo or "")
    return Status(201, _broadcast_out(broadcast))


@router.get("/{uuid:bot_id}/broadcasts", response={200: list[BroadcastOut], **ERRORS}, summary="Broadcasts")
def list_broadcasts(request: HttpRequest, bot_id: uuid.UUID) -> list[dict[str, Any]]:
    return [
        _broadcast_out(b, progress) for b, progress in selectors.broadcasts_with_progress(bot=_bot(bot_id))
    ]


@router.get(
    "/{uuid:bot_id}/broadcasts/{int:broadcast_id}",
    response={200: BroadcastOut, **ERRORS},
    summary="A broadcast's progress",
)
def get_broadcast(request: HttpRequest, bot_id: uuid.UUID, broadcast_id: int) -> dict[str, Any]:
    broadcast = Broadcast.objects.filter(bot=_bot(bot_id), pk=broadcast_id).first()
    if broadcast is None:
        raise NotFound(f"No broadcast {broadcast_id}.", code="broadcast_not_found")
    return _broadcast_out(broadcast)


@webhook_router.post(
    "/{uuid:bot_id}",
    response={200: WebhookAck, **ERRORS},
    summary="Receive an update from Telegram",
    description="Telegram calls this with the secret header set by POST /api/bots/{id}/webhook.",
)
def receive_update(request: HttpRequest, bot_id: uuid.UUID) -> dict[str, Any]:
    result = webhook_receive(
        bot_id=bot_id, secret=request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body=request.body
    )
    return {"ok": True, "duplicate": result.duplicate}
