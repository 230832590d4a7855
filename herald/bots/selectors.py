"""Reads of the bots app: statistics and collected answers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from herald.bots.models import (
    BotFlow,
    BotMessage,
    BotUser,
    Broadcast,
    FlowAnswer,
    FlowRun,
    MessageDirection,
    TelegramBot,
)
from herald.telegram.models import OutboundMessage
from herald.telegram.selectors import outbox_progress

STATS_DAYS = 30


def bot_stats(*, bot: TelegramBot, days: int = STATS_DAYS) -> dict[str, Any]:
    now = timezone.now()
    users = BotUser.objects.filter(bot=bot)
    active = users.aggregate(
        total=Count("pk"),
        blocked=Count("pk", filter=Q(is_blocked=True)),
        **{
            f"active_{n}d": Count("pk", filter=Q(last_interaction__gte=now - dt.timedelta(days=n)))
            for n in (1, 7, 30)
        },
    )
    since = now - dt.timedelta(days=days)
    per_day: dict[str, dict[str, int]] = defaultdict(lambda: {"incoming": 0, "outgoing": 0})
    rows = (
        BotMessage.objects.filter(bot=bot, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "direction")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        per_day[row["day"].isoformat()][row["direction"]] = row["n"]
    runs = (
        FlowRun.objects.filter(bot=bot)
        .values("flow_id", "flow__name")
        .annotate(runs=Count("pk"), completions=Count("pk", filter=Q(completed=True)))
    )
    return {
        "users": active["total"],
        "user_count": bot.user_count,
        "request_count": bot.request_count,
        "blocked_users": active["blocked"],
        "active_users": {"1d": active["active_1d"], "7d": active["active_7d"], "30d": active["active_30d"]},
        "messages_per_day": [{"day": day, **counts} for day, counts in sorted(per_day.items())],
        "flows": [
            {
                "flow_id": r["flow_id"],
                "name": r["flow__name"],
                "runs": r["runs"],
                "completions": r["completions"],
            }
            for r in runs
        ],
    }


def flow_responses(*, flow: BotFlow) -> list[dict[str, Any]]:
    """One row per run that saved an answer: who, when, and each answer by its ``save_as`` name."""
    rows: dict[int, dict[str, Any]] = {}
    answers = (
        FlowAnswer.objects.filter(flow=flow).select_related("run", "user").order_by("run_id", "created_at")
    )
    for answer in answers:
        row = rows.setdefault(
            answer.run_id,
            {
                "run_id": answer.run_id,
                "chat_id": answer.user.chat_id,
                "username": answer.user.username,
                "first_name": answer.user.first_name,
                "started_at": answer.run.started_at.isoformat(),
                "completed": answer.run.completed,
                "answers": {},
            },
        )
        row["answers"][answer.key] = answer.value
    return list(rows.values())


def broadcast_progress(*, broadcast: Broadcast) -> dict[str, int]:
    from herald.bots.services import broadcast_reference

    return outbox_progress(reference=broadcast_reference(broadcast))


def bots_overview() -> list[dict[str, Any]]:
    """One row per bot for the admin dashboard: users, requests, today's messages, blocked users and how
    many of its sends are still queued. Four queries whatever the number of bots."""
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    bots = list(
        TelegramBot.objects.order_by("name").values(
            "id", "name", "username", "is_active", "user_count", "request_count", "token_fingerprint"
        )
    )
    blocked = dict(
        BotUser.objects.filter(is_blocked=True).values_list("bot_id").annotate(n=Count("pk")).order_by()
    )
    today: dict[tuple[Any, str], int] = {
        (row["bot_id"], row["direction"]): row["n"]
        for row in BotMessage.objects.filter(created_at__gte=start_of_day)
        .values("bot_id", "direction")
        .annotate(n=Count("pk"))
        .order_by()
    }
    # the gateway's queue, per bot (its rows carry the token's fingerprint, as TelegramBot does)
    backlog = dict(
        OutboundMessage.objects.filter(
            status__in=OutboundMessage.OPEN_STATUSES,
            bot_fingerprint__in=[bot["token_fingerprint"] for bot in bots],
        )
        .values_list("bot_fingerprint")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [
        {
            "id": bot["id"],
            "name": bot["name"],
            "username": bot["username"],
            "is_active": bot["is_active"],
            "users": bot["user_count"],
            "requests": bot["request_count"],
            "messages_in_today": today.get((bot["id"], MessageDirection.INCOMING), 0),
            "messages_out_today": today.get((bot["id"], MessageDirection.OUTGOING), 0),
            "blocked_users": blocked.get(bot["id"], 0),
            "outbox_backlog": backlog.get(bot["token_fingerprint"], 0),
        }
        for bot in bots
    ]


def broadcasts_with_progress(*, bot: TelegramBot, limit: int = 100) -> list[tuple[Broadcast, dict[str, int]]]:
    """The bot's latest broadcasts, each with its outbox counts: two queries however many there are."""
    from herald.bots.services import broadcast_reference

    broadcasts = list(Broadcast.objects.filter(bot=bot)[:limit])
    references = {broadcast_reference(b): b.pk for b in broadcasts}
    # one grouped count over the outbox rows of all listed broadcasts (the reference column is indexed)
    rows = (
        OutboundMessage.objects.filter(reference__in=references)
        .values("reference")
        .annotate(
            pending=Count("pk", filter=Q(status__in=OutboundMessage.OPEN_STATUSES)),
            sent=Count("pk", filter=Q(status=OutboundMessage.Status.SENT)),
            failed=Count("pk", filter=Q(status=OutboundMessage.Status.FAILED)),
        )
        .order_by()
    )
    progress = {
        references[row["reference"]]: {key: int(row[key]) for key in ("pending", "sent", "failed")}
        for row in rows
    }
    empty = {"pending": 0, "sent": 0, "failed": 0}
    return [(b, progress.get(b.pk, dict(empty))) for b in broadcasts]
