"""Files for the editor: the weekly chart (PNG) and the exports (CSV, JSON, XLSX), uploaded as Telegram
photos and documents. Uploads cannot wait in the outbox (it holds JSON), so these tasks make paced calls
through the gateway themselves, once per request: a cache marker keeps a rerun from sending a file twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.utils import translation
from telegram import InputFile

from herald.studio import analytics, screens, texts
from herald.studio.models import Studio
from herald.studio.services import audit_record
from herald.telegram.errors import TelegramError, TelegramRetryAfter
from herald.telegram.pacing import send_now

logger = logging.getLogger(__name__)
SENT_MARKER_SECONDS = 24 * 3600
CHART_WEEKS = 8


def run_with_retry(task: Any, send: Callable[..., None], **kwargs: Any) -> None:
    """Run ``send``; transient Telegram failures come back with backoff, permanent ones are logged."""
    try:
        send(**kwargs)
    except TelegramRetryAfter as exc:
        raise task.retry(exc=exc, countdown=exc.seconds + 1) from exc
    except TelegramError as exc:
        if exc.permanent:
            logger.warning("studio file for %s not sent: %s", kwargs.get("chat_id"), exc.description)
            return
        raise task.retry(exc=exc, countdown=2 ** (task.request.retries + 1)) from exc


def _once(key: str, send: Callable[[], None]) -> None:
    if not cache.add(f"studio:sent:{key}", 1, SENT_MARKER_SECONDS):
        return  # a repeated run: the file went out already
    try:
        send()
    except Exception:
        cache.delete(f"studio:sent:{key}")
        raise


def weekly_chart_send(*, studio_pk: int, chat_id: int, key: str) -> None:
    studio = Studio.objects.select_related("bot", "destination").filter(pk=studio_pk).first()
    if studio is None:
        return
    with translation.override(studio.interface_language):
        from herald.content import charts

        caption = analytics.report(studio, "weekly")
        png = charts.weekly_chart_png(destination=studio.destination, weeks=CHART_WEEKS)
        markup = screens.analytics_result("")[1]

        def send() -> None:
            send_now(
                studio.bot.token,
                "sendPhoto",
                chat_id=chat_id,
                photo=InputFile(png, filename="weekly.png"),
                caption=caption,
                parse_mode="HTML",
                reply_markup=markup,
            )

        _once(key, send)


def export_send(*, studio_pk: int, chat_id: int, fmt: str, key: str) -> None:
    studio = Studio.objects.select_related("bot", "destination").filter(pk=studio_pk).first()
    if studio is None:
        return
    with translation.override(studio.interface_language):
        from herald.content import export

        kind, _, table = fmt.partition(".")
        filename, data = export.export_posts(destination=studio.destination, fmt=kind, table=table or "posts")
        markup = screens.analytics_result("")[1]

        def send() -> None:
            send_now(
                studio.bot.token,
                "sendDocument",
                chat_id=chat_id,
                document=InputFile(data, filename=filename),
                caption=texts.export_caption(kind),
                reply_markup=markup,
            )

        _once(key, send)
        audit_record(
            studio=studio,
            telegram_user_id=chat_id,
            action="export.sent",
            detail={"format": fmt, "filename": filename, "bytes": len(data)},
        )
