"""Telling the editor how a publish went: posted (with a link when the channel is public) or failed with
Telegram's own words and a Retry button."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from herald.studio import screens, texts
from herald.studio.callbacks import Action, cb
from herald.studio.models import AuditEntry, Studio
from herald.studio.replies import Replies
from herald.studio.services import audit_record
from herald.telegram.formatting import escape_html
from herald.telegram.keyboards import keyboard

# the editor who asked for the publish (or the schedule) hears about it; else the author
_ASKED = ("post.publish", "post.schedule")


def _editor_for(studio: Studio, post: Any) -> int:
    asked = (
        AuditEntry.objects.filter(studio=studio, post_id=post.pk, action__in=_ASKED)
        .order_by("-pk")
        .values_list("telegram_user_id", flat=True)
        .first()
    )
    return int(asked or post.author_telegram_id)


def _link(studio: Studio, post: Any) -> str:
    ids = list(post.channel_message_ids or [])
    username = studio.destination.username.lstrip("@")
    if not ids or not username:
        return ""
    return f'<a href="https://t.me/{escape_html(username)}/{int(ids[0])}">t.me/{escape_html(username)}/{int(ids[0])}</a>'


def publish_result_tell(*, post: Any, ok: bool, error: str = "") -> None:
    for studio in Studio.objects.select_related("bot", "destination").filter(
        destination_id=post.destination_id
    ):
        editor = _editor_for(studio, post)
        attempt = int(getattr(post, "publish_attempts", 0) or 0)
        out = Replies(
            token=studio.bot.token,
            chat_id=editor,
            key=f"studio:result:{post.pk}:{'ok' if ok else 'failed'}:{attempt}",
            reference=f"studio.result:{studio.bot_id}",
        )
        with translation.override(studio.interface_language):
            channel = escape_html(studio.destination.title or studio.channel)
            if ok:
                is_admin = studio.editors.filter(telegram_user_id=editor, is_admin=True).exists()
                menu_text, markup = screens.main_menu(is_admin=is_admin)
                out.send(f"{texts.published(channel, _link(studio, post))}\n\n{menu_text}", markup)
            else:
                reason = escape_html(error or getattr(post, "last_error", "") or "?")
                rows = [
                    [screens.button(texts.retry(), cb(Action.RETRY_PUBLISH, post))],
                    [screens.button(texts.edit_more(), cb(Action.EDIT_MORE, post))],
                    [screens.button(texts.main_menu(), cb(Action.MENU))],
                ]
                out.send(texts.publish_failed(reason), keyboard(rows))
        audit_record(
            studio=studio,
            telegram_user_id=editor,
            action="post.published" if ok else "post.publish_failed",
            post_id=post.pk,
            detail={} if ok else {"error": (error or getattr(post, "last_error", ""))[:300]},
        )
