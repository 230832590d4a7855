"""The editor's conversation: every update of a studio bot comes here (from ``herald.bots.processing``, inside
the transaction that claims it), passes the whitelist and the rate limit, and moves the editor's state machine
(``herald.studio.states``). Answers go to the outbox in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import zoneinfo
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone, translation

from herald.bots.models import InboundUpdate, TelegramBot
from herald.content import selectors as content_selectors
from herald.content import services as content
from herald.content.rendering import post_sends
from herald.content.services import MEDIA_MAX_BYTES
from herald.core import ratelimit
from herald.core.errors import HeraldError, InvalidInput, NotFound
from herald.studio import screens, texts
from herald.studio.callbacks import Action, Callback, cb, parse, picker_target
from herald.studio.models import AuditEntry, EditorSession, Studio, StudioEditor
from herald.studio.replies import Replies
from herald.studio.services import (
    audit_record,
    editor_add,
    editor_admin_toggle,
    editor_remove,
    session_locked,
    session_save,
    studio_update,
)
from herald.studio.states import POST_STATES, State
from herald.telegram.formatting import TEXT_LIMIT, escape_html
from herald.telegram.keyboards import (
    CalendarDay,
    CalendarIgnore,
    CalendarMonth,
    parse_calendar_callback,
    parse_time_callback,
    parse_typed_time,
)

logger = logging.getLogger(__name__)

MAX_KEYWORDS = 500
MAX_DETAILS = 2000
PAGE_SIZE = 5
EXPORTS = ("csv.posts", "csv.events", "csv.summary", "json", "xlsx")  # format[.table of a CSV]
UNAUTHORIZED_REPORT_EVERY = dt.timedelta(hours=1)
# The post statuses in which the editor may still change a post.
EDITABLE = frozenset({"draft", "failed", "scheduled"})
# Buttons that change a post: refused when the post changed since they were drawn.
MUTATING = frozenset(
    {
        Action.FORMAT,
        Action.SKIP,
        Action.APPROVE,
        Action.EDIT,
        Action.REGENERATE,
        Action.MEDIA,
        Action.PUBLISH,
        Action.SCHEDULE,
        Action.DELETE,
        Action.UNSCHEDULE,
        Action.RETRY_PUBLISH,
    }
)
COMMANDS = {
    "/start": Action.MENU,
    "/menu": Action.MENU,
    "/cancel": Action.MENU,
    "/new": Action.NEW,
    "/drafts": Action.DRAFTS,
    "/scheduled": Action.SCHEDULED,
    "/analytics": Action.ANALYTICS,
    "/settings": Action.SETTINGS,
    "/help": Action.HELP,
}


@dataclass
class Turn:
    """One update of one editor, with what it needs to answer."""

    update: InboundUpdate
    bot: TelegramBot
    studio: Studio
    editor: StudioEditor
    session: EditorSession
    user_id: int
    out: Replies
    message: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)

    @property
    def query_id(self) -> str | None:
        return self.query.get("id")

    @property
    def pressed_message_id(self) -> int | None:
        message = self.query.get("message") or {}
        # only a text message of ours can be edited into the next screen; media previews stay as they are
        return message.get("message_id") if message.get("text") is not None else None

    @property
    def zone(self) -> str:
        return self.studio.timezone

    def audit(self, action: str, post: Any = None, **detail: Any) -> None:
        audit_record(
            studio=self.studio,
            telegram_user_id=self.user_id,
            action=action,
            post_id=getattr(post, "pk", None),
            detail=detail,
        )

    def show(self, screen: screens.Screen, *, edit: bool = True) -> None:
        """The next screen: in place of the message whose button was pressed, else as a new message."""
        text, markup = screen
        if edit and self.pressed_message_id is not None:
            self.out.edit(self.pressed_message_id, text, markup)
        else:
            self.out.send(text, markup)

    def go(self, state: State, screen: screens.Screen | None = None, *, post: Any = ..., **data: Any) -> None:
        session_save(session=self.session, state=state, data=data, **({} if post is ... else {"post": post}))
        if screen is not None:
            self.show(screen)


# --- Entry ------------------------------------------------------------------------------------------------


def studio_update_handle(update: InboundUpdate) -> None:
    """The handler ``herald.bots`` calls for each update of a bot of kind ``studio``."""
    bot = update.bot
    payload = update.payload
    if update.kind == "message_reaction_count":
        _reactions(bot, payload.get("message_reaction_count") or {})
        return
    if update.kind not in ("message", "callback_query") or update.chat_id is None or update.chat_id < 0:
        return  # groups, channels and other kinds: nothing for editors there
    studio = Studio.objects.select_related("destination").filter(bot=bot).first()
    body = payload.get(update.kind) or {}
    sender = body.get("from") or {}
    if not sender.get("id"):
        return
    user_id = int(sender["id"])
    out = Replies(
        token=bot.token, chat_id=update.chat_id, key=f"studio:{update.pk}", reference=f"studio:{bot.pk}"
    )
    query = body if update.kind == "callback_query" else {}
    if studio is None:
        out.answer(query.get("id"))
        out.send(texts.not_configured())
        return
    with translation.override(studio.interface_language):
        editor = StudioEditor.objects.filter(studio=studio, telegram_user_id=user_id).first()
        if editor is None:
            _deny(studio, out, sender, body, query)
            return
        if not _within_rate_limit(studio, editor, out, sender, query):
            return
        session = session_locked(studio=studio, telegram_user_id=user_id)
        turn = Turn(
            update=update,
            bot=bot,
            studio=studio,
            editor=editor,
            session=session,
            user_id=user_id,
            out=out,
            message=body if update.kind == "message" else {},
            query=query,
        )
        try:
            with transaction.atomic():
                _dispatch(turn)
        except DatabaseError:
            raise
        except HeraldError as exc:
            # a refusal from a service (a post that cannot change any more, bad input): said plainly
            turn.audit("refused", detail=exc.message[:300])
            out.answer(turn.query_id)
            out.send(escape_html(exc.message), screens.only_menu())
        except Exception:
            logger.exception("studio %s: update %s failed", studio.pk, update.pk)
            session_save(session=session, state=State.MENU)
            out.answer(turn.query_id)
            out.send(texts.something_wrong(), screens.only_menu())


def _reactions(bot: TelegramBot, body: dict[str, Any]) -> None:
    chat = body.get("chat") or {}
    if not isinstance(chat.get("id"), int) or not isinstance(body.get("message_id"), int):
        return
    counts = content.reaction_counts_from_update(body)
    content.reactions_record(bot=bot, chat_id=chat["id"], message_id=body["message_id"], reactions=counts)


def _who(sender: dict[str, Any]) -> str:
    name = " ".join(filter(None, [sender.get("first_name"), sender.get("last_name")])) or "?"
    handle = f" @{sender['username']}" if sender.get("username") else ""
    return escape_html(f"{name}{handle} (id {sender.get('id')})")


def _report_to_admins(studio: Studio, text: str, key: str) -> None:
    bot = studio.bot
    for admin_id in studio.editors.filter(is_admin=True).values_list("telegram_user_id", flat=True):
        Replies(
            token=bot.token, chat_id=admin_id, key=f"{key}:{admin_id}", reference=f"studio.security:{bot.pk}"
        ).send(text)


def _deny(
    studio: Studio, out: Replies, sender: dict[str, Any], body: dict[str, Any], query: dict[str, Any]
) -> None:
    """Someone off the whitelist: denied, logged, and the admins told (at most hourly per person)."""
    user_id = int(sender["id"])
    wait = ratelimit.reserve(
        f"studio:{studio.pk}:{user_id}",
        rate_per_second=settings.STUDIO_RATE_PER_MINUTE / 60,
        burst=settings.STUDIO_RATE_BURST,
    )
    what = (body.get("text") or query.get("data") or body.get("caption") or "")[:100]
    recent = AuditEntry.objects.filter(
        studio=studio,
        telegram_user_id=user_id,
        action="unauthorized",
        at__gte=timezone.now() - UNAUTHORIZED_REPORT_EVERY,
    ).exists()
    entry = audit_record(
        studio=studio,
        telegram_user_id=user_id,
        action="unauthorized",
        detail={"username": sender.get("username", ""), "name": sender.get("first_name", ""), "input": what},
    )
    if wait > 0:
        return  # flooding: logged, not answered
    out.answer(query.get("id"))
    out.send(texts.access_denied())
    if not recent:
        _report_to_admins(
            studio,
            texts.unauthorized_report(_who(sender), escape_html(what) or "—"),
            f"studio:deny:{entry.pk}",
        )


def _within_rate_limit(
    studio: Studio, editor: StudioEditor, out: Replies, sender: dict[str, Any], query: dict[str, Any]
) -> bool:
    now = timezone.now()
    if editor.blocked_until is not None and editor.blocked_until > now:
        return False  # paused: told once when the pause began
    wait = ratelimit.reserve(
        f"studio:{studio.pk}:{editor.telegram_user_id}",
        rate_per_second=settings.STUDIO_RATE_PER_MINUTE / 60,
        burst=settings.STUDIO_RATE_BURST,
    )
    if wait <= 0:
        return True
    seconds = settings.STUDIO_BLOCK_SECONDS
    StudioEditor.objects.filter(pk=editor.pk).update(blocked_until=now + dt.timedelta(seconds=seconds))
    entry = audit_record(
        studio=studio,
        telegram_user_id=editor.telegram_user_id,
        action="rate_limited",
        detail={"seconds": seconds},
    )
    out.answer(query.get("id"))
    out.send(texts.rate_limited(seconds))
    _report_to_admins(studio, texts.rate_limit_report(_who(sender), seconds), f"studio:rl:{entry.pk}")
    return False


# --- Dispatch ---------------------------------------------------------------------------------------------


def _dispatch(turn: Turn) -> None:
    if turn.query:
        _on_button(turn, str(turn.query.get("data") or ""))
        return
    text = turn.message.get("text")
    if isinstance(text, str) and text.startswith("/"):
        command = text.split()[0].split("@")[0].lower()
        action = COMMANDS.get(command)
        if action is not None:
            turn.audit(f"command{command}")
            _ACTIONS[action](turn, Callback(action, arg="1"), None)
            return
    _on_message(turn)


def post_find(studio: Studio, post_id: int) -> Any | None:
    """The studio's post, or None when it was deleted (a stale button)."""
    try:
        return content_selectors.post_get(destination=studio.destination, post_id=post_id)
    except NotFound:
        return None


def _stale(turn: Turn, notice: str, post: Any = None) -> None:
    turn.audit("stale_button", post, data=str(turn.query.get("data", ""))[:64], notice=notice)
    turn.out.answer(turn.query_id, notice, alert=True)
    if post is not None and post.status in EDITABLE:
        turn.out.send(f"ℹ️ {notice}")
        _show_post(turn, post)
    else:
        # only a notice: whatever the editor is in the middle of carries on
        turn.out.send(f"ℹ️ {notice}", screens.only_menu())


def _post_for(turn: Turn, post_id: int, version: int | None, *, mutating: bool) -> Any | None:
    """The post a button acts on, or None after telling the editor why the button is stale."""
    post = post_find(turn.studio, post_id)
    if post is None:
        _stale(turn, texts.stale_deleted())
        return None
    if mutating and post.status not in EDITABLE:
        _stale(turn, texts.stale_published(), post)
        return None
    if mutating and version is not None and version != post.version:
        _stale(turn, texts.stale_changed(), post)
        return None
    return post


def _on_button(turn: Turn, data: str) -> None:
    picker = picker_target(data)
    if picker is not None:
        kind, post_id, version, prefix = picker
        post = _post_for(turn, post_id, version, mutating=True)
        if post is not None:
            (_on_calendar if kind == "calendar" else _on_time_button)(turn, post, data, prefix)
        return
    callback = parse(data)
    handler = _ACTIONS.get(callback.action) if callback is not None else None
    if callback is None or handler is None:
        _stale(turn, texts.stale_generic())
        return
    post = None
    if callback.post_id is not None:
        post = _post_for(turn, callback.post_id, callback.version, mutating=callback.action in MUTATING)
        if post is None:
            return
    turn.audit(f"button.{callback.action}", post, arg=callback.arg)
    turn.out.answer(turn.query_id)
    handler(turn, callback, post)


def _session_post(turn: Turn) -> Any | None:
    post_id = turn.session.post_id
    if post_id is None:
        return None
    post = post_find(turn.studio, post_id)
    return post if post is not None and post.status in EDITABLE else None


def _on_message(turn: Turn) -> None:
    state = turn.session.state
    post = _session_post(turn) if state in POST_STATES else None
    if state in POST_STATES and post is None:
        _menu(turn, Callback(Action.MENU), None)
        return
    if state == State.MEDIA_UPLOAD:
        _on_media_file(turn, post)
        return
    handler = _TEXT_HANDLERS.get(State(state)) if state in State._value2member_map_ else None
    if handler is None:
        if state == State.GENERATING:
            turn.out.send(texts.still_writing(), screens.only_menu())
            return
        text, markup = screens.main_menu(is_admin=turn.editor.is_admin)
        turn.out.send(f"{texts.use_buttons()}\n\n{text}", markup)
        return
    typed = turn.message.get("text")
    if not isinstance(typed, str) or not typed.strip():
        turn.audit("invalid_input", post, reason="not text", state=state)
        turn.out.send(texts.send_text())
        return
    handler(turn, post, typed.strip())


# --- Main menu, help --------------------------------------------------------------------------------------


def _menu(turn: Turn, callback: Callback, post: Any) -> None:
    turn.go(State.MENU, screens.main_menu(is_admin=turn.editor.is_admin), post=None)


def _help(turn: Turn, callback: Callback, post: Any) -> None:
    turn.go(State.MENU, screens.help_screen())


# --- New post ---------------------------------------------------------------------------------------------


def _new(turn: Turn, callback: Callback, post: Any) -> None:
    turn.go(State.FORMAT, screens.choose_format(default=turn.studio.default_format), post=None)


def _format(turn: Turn, callback: Callback, post: Any) -> None:
    fmt = callback.arg
    if fmt not in texts.FORMAT_LABELS:  # "Back" to the format choice of a post
        turn.go(
            State.FORMAT,
            screens.choose_format(default=post.format if post else turn.studio.default_format, post=post),
        )
        return
    if post is None:
        post = content.post_create_draft(
            destination=turn.studio.destination,
            author_telegram_id=turn.user_id,
            format=fmt,
            language=turn.studio.language,
        )
        turn.audit("post.create", post, format=fmt)
    elif post.format != fmt:
        post = content.post_update(post=post, format=fmt)
        turn.audit("post.format", post, format=fmt)
    turn.go(State.KEYWORDS, screens.keywords(post), post=post)


def _keywords_screen(turn: Turn, callback: Callback, post: Any) -> None:
    turn.go(State.KEYWORDS, screens.keywords(post), post=post)


def _details_screen(turn: Turn, callback: Callback, post: Any) -> None:
    turn.go(State.DETAILS, screens.details(post), post=post)


def _on_keywords(turn: Turn, post: Any, text: str) -> None:
    if len(text) > MAX_KEYWORDS:
        turn.audit("invalid_input", post, reason="keywords too long", length=len(text))
        turn.out.send(texts.too_long(MAX_KEYWORDS))
        return
    post = content.post_update(post=post, keywords=text)
    turn.audit("post.keywords", post)
    turn.go(State.DETAILS, screens.details(post), post=post)


def _on_details(turn: Turn, post: Any, text: str) -> None:
    if len(text) > MAX_DETAILS:
        turn.audit("invalid_input", post, reason="details too long", length=len(text))
        turn.out.send(texts.too_long(MAX_DETAILS))
        return
    post = content.post_update(post=post, details=text)
    turn.audit("post.details", post)
    _generate(turn, post)


def _skip(turn: Turn, callback: Callback, post: Any) -> None:
    if post.details:
        post = content.post_update(post=post, details="")
    turn.audit("post.details_skipped", post)
    _generate(turn, post)


def _generate(turn: Turn, post: Any) -> None:
    """Send "writing…"; once Telegram has it, a task writes the post and edits that message into it."""
    if not post.keywords:
        turn.go(State.KEYWORDS, screens.keywords(post), post=post)
        return
    nonce = secrets.token_hex(6)
    turn.go(State.GENERATING, post=post, gen=nonce)
    text, markup = screens.writing(post)
    turn.out.send(text, markup, reference=f"studio.writing:{turn.session.pk}:{post.pk}:{nonce}")
    turn.audit("post.generate", post)


def _regenerate(turn: Turn, callback: Callback, post: Any) -> None:
    _generate(turn, post)


def _retry_generation(turn: Turn, callback: Callback, post: Any) -> None:
    turn.go(State.KEYWORDS, screens.keywords(post), post=post)


def _review(turn: Turn, post: Any, *, edit: bool = True) -> None:
    if not post.text:
        turn.go(State.KEYWORDS, screens.keywords(post), post=post)
        return
    session_save(session=turn.session, state=State.REVIEW, post=post, data={})
    turn.show(screens.review(post), edit=edit)


def _approve(turn: Turn, callback: Callback, post: Any) -> None:
    if not post.text:
        turn.out.send(texts.needs_text(), screens.only_menu())
        return
    turn.audit("post.approve", post)
    turn.go(State.MEDIA, screens.media(post), post=post)


def _edit(turn: Turn, callback: Callback, post: Any) -> None:
    turn.go(State.EDIT_TEXT, screens.edit_text(post), post=post)


def _edit_more(turn: Turn, callback: Callback, post: Any) -> None:
    """Back to the text: the review of a post that has one, the keywords of one that has none yet."""
    _review(turn, post, edit=turn.pressed_message_id is not None)


def _on_new_text(turn: Turn, post: Any, text: str, *, source: str) -> None:
    if len(text) > TEXT_LIMIT:
        turn.audit("invalid_input", post, reason="text too long", length=len(text))
        turn.out.send(texts.too_long(TEXT_LIMIT))
        return
    post = content.post_update(post=post, text=text, text_source=source, links=links_in(text, post.details))
    turn.audit("post.text_edited", post, source=source)
    turn.go(State.MEDIA, screens.media(post), post=post)


_URL = re.compile(r"https?://[^\s<>\"'«»]+", re.IGNORECASE)
MAX_LINK_BUTTONS = 8


def links_in(*texts_: str) -> list[dict[str, str]]:
    """The post's link buttons: the web addresses in its text (and details), each once, in order."""
    found: list[str] = []
    for text in texts_:
        for match in _URL.finditer(text or ""):
            url = match.group(0).rstrip(".,;:!?)]}")
            if url not in found and urlsplit(url).hostname:
                found.append(url)
    return [{"text": f"🔗 {urlsplit(url).hostname}"[:64], "url": url} for url in found[:MAX_LINK_BUTTONS]]


def _on_edited_text(turn: Turn, post: Any, text: str) -> None:
    _on_new_text(turn, post, text, source="manual")


def _on_manual_text(turn: Turn, post: Any, text: str) -> None:
    _on_new_text(turn, post, text, source="manual")


# --- Media ------------------------------------------------------------------------------------------------


def _media_choice(turn: Turn, callback: Callback, post: Any) -> None:
    kind = callback.arg
    if kind == "none":
        post = content.post_update(
            post=post, media_kind="none", media_file_id="", media_file_unique_id="", media_file_size=None
        )
        turn.audit("post.media", post, kind="none")
        _preview(turn, post)
        return
    if kind not in ("photo", "video", "animation"):
        turn.go(State.MEDIA, screens.media(post), post=post)
        return
    turn.go(State.MEDIA_UPLOAD, screens.media_upload(post, kind), post=post, media=kind)


def _back_to_media(turn: Turn, callback: Callback, post: Any) -> None:
    turn.go(State.MEDIA, screens.media(post), post=post)


def _sent_media(message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if message.get("animation"):  # Telegram also sets "document" on a GIF: check it first
        return "animation", message["animation"]
    if message.get("photo"):
        return "photo", message["photo"][-1]
    for kind in ("video", "document"):
        if message.get(kind):
            return kind, message[kind]
    return ("text" if message.get("text") else "other"), {}


def _media_limit(kind: str) -> int:
    return int(MEDIA_MAX_BYTES[kind])  # type: ignore[index]


def _on_media_file(turn: Turn, post: Any) -> None:
    wanted = str(turn.session.data.get("media") or "photo")
    got, file = _sent_media(turn.message)
    if got != wanted:
        turn.audit("invalid_input", post, reason="wrong media", got=got, wanted=wanted)
        turn.out.send(
            texts.wrong_media(str(texts.MEDIA_NAMES.get(got, got)), str(texts.MEDIA_NAMES[wanted])),
            screens.media_upload(post, wanted)[1],
        )
        return
    size = int(file.get("file_size") or 0)
    limit = _media_limit(wanted)
    if size > limit:
        turn.audit("invalid_input", post, reason="media too large", size=size, limit=limit)
        turn.out.send(
            texts.media_too_large(f"{size / 1_048_576:.1f}", f"{limit / 1_048_576:.0f}"),
            screens.media_upload(post, wanted)[1],
        )
        return
    post = content.post_update(
        post=post,
        media_kind=wanted,
        media_file_id=str(file.get("file_id", "")),
        media_file_unique_id=str(file.get("file_unique_id", "")),
        media_file_size=size or None,
    )
    turn.audit("post.media", post, kind=wanted, size=size)
    _preview(turn, post)


# --- Preview, publish, delete -----------------------------------------------------------------------------


def _send_rendered(turn: Turn, post: Any) -> None:
    """The post exactly as the channel will get it: the same Bot API calls, sent to the editor's chat."""
    if not post.text and post.media_kind == "none":
        turn.out.send(texts.no_text_yet())
        return
    for method, params in post_sends(post=post):
        turn.out.call(method, params)


def _preview(turn: Turn, post: Any) -> None:
    session_save(session=turn.session, state=State.PREVIEW, post=post, data={})
    _send_rendered(turn, post)
    text, markup = screens.preview_actions(post)
    turn.out.send(text, markup)


def _preview_button(turn: Turn, callback: Callback, post: Any) -> None:
    _show_post(turn, post)


def _show_post(turn: Turn, post: Any) -> None:
    """A post's own screen for its status: a scheduled post, or a draft's preview."""
    if post.status == "scheduled":
        session_save(session=turn.session, state=State.MENU, post=post, data={})
        _send_rendered(turn, post)
        turn.out.send(*screens.scheduled_actions(post, turn.zone))
    elif turn.session.post_id == post.pk and turn.session.state in (
        State.PREVIEW,
        State.MEDIA,
        State.MEDIA_UPLOAD,
    ):
        _preview(turn, post)
    else:
        session_save(session=turn.session, state=State.MENU, post=post, data={})
        _send_rendered(turn, post)
        turn.out.send(*screens.draft_actions(post))


def _publish(turn: Turn, callback: Callback, post: Any) -> None:
    if not post.text and post.media_kind == "none":
        turn.out.send(texts.needs_text(), screens.only_menu())
        return
    post = content.post_publish_now(post=post)
    turn.audit("post.publish", post)
    turn.go(State.MENU, post=None)
    turn.out.send(texts.publishing())


def _retry_publish(turn: Turn, callback: Callback, post: Any) -> None:
    _publish(turn, callback, post)


def _delete(turn: Turn, callback: Callback, post: Any) -> None:
    turn.audit("post.delete", post)
    content.post_delete(post=post)
    text, markup = screens.main_menu(is_admin=turn.editor.is_admin)
    turn.go(State.MENU, post=None)
    turn.out.send(f"{texts.deleted()}\n\n{text}", markup)


# --- Scheduling -------------------------------------------------------------------------------------------


def _now_local(turn: Turn) -> dt.datetime:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(turn.zone))


def _schedule(turn: Turn, callback: Callback, post: Any) -> None:
    if not post.text and post.media_kind == "none":
        turn.out.send(texts.needs_text(), screens.only_menu())
        return
    today = _now_local(turn).date()
    screen = screens.calendar(post, today=today, year=today.year, month=today.month, zone=turn.zone)
    turn.go(State.SCHEDULE_DATE, screen, post=post)


def _on_calendar(turn: Turn, post: Any, data: str, prefix: str) -> None:
    today = _now_local(turn).date()
    picked = parse_calendar_callback(
        data, prefix=prefix, today=today, max_date=today + dt.timedelta(days=screens.SCHEDULE_DAYS_AHEAD)
    )
    turn.out.answer(turn.query_id)
    if isinstance(picked, CalendarMonth):
        screen = screens.calendar(post, today=today, year=picked.year, month=picked.month, zone=turn.zone)
        turn.go(State.SCHEDULE_DATE, screen, post=post)
    elif isinstance(picked, CalendarDay):
        turn.audit("post.schedule_day", post, day=picked.day.isoformat())
        screen = screens.time_picker(post, day=picked.day, now_local=_now_local(turn), zone=turn.zone)
        turn.go(State.SCHEDULE_TIME, screen, post=post, day=picked.day.isoformat())
    elif picked is None or isinstance(picked, CalendarIgnore):
        return  # a heading, a blank or a past day: nothing to do


def _on_time_button(turn: Turn, post: Any, data: str, prefix: str) -> None:
    picked = parse_time_callback(data, prefix=prefix)
    turn.out.answer(turn.query_id)
    if picked is not None:
        _schedule_at(turn, post, picked)


def _on_typed_time(turn: Turn, post: Any, text: str) -> None:
    try:
        picked = parse_typed_time(text)
    except InvalidInput:
        turn.audit("invalid_input", post, reason="time", input=text[:20])
        turn.out.send(texts.time_not_understood())
        return
    _schedule_at(turn, post, picked)


def _schedule_at(turn: Turn, post: Any, at: dt.time) -> None:
    day_text = turn.session.data.get("day")
    if not isinstance(day_text, str):
        _schedule(turn, Callback(Action.SCHEDULE), post)
        return
    day = dt.date.fromisoformat(day_text)
    zone = zoneinfo.ZoneInfo(turn.zone)
    moment = dt.datetime.combine(day, at, tzinfo=zone)
    now_local = _now_local(turn)
    if moment <= now_local:
        turn.audit("invalid_input", post, reason="time in the past", at=moment.isoformat())
        text, markup = screens.time_picker(post, day=day, now_local=now_local, zone=turn.zone)
        turn.out.send(f"{texts.time_in_past(now_local.strftime('%H:%M'), turn.zone)}\n\n{text}", markup)
        return
    post = content.post_schedule(post=post, at=moment.astimezone(dt.UTC))
    turn.audit("post.schedule", post, at=moment.isoformat())
    menu_text, markup = screens.main_menu(is_admin=turn.editor.is_admin)
    turn.go(State.MENU, post=None)
    turn.out.send(
        f"{texts.scheduled_confirmed(screens.when(moment, turn.zone), turn.zone)}\n\n{menu_text}", markup
    )


def _unschedule(turn: Turn, callback: Callback, post: Any) -> None:
    post = content.post_unschedule(post=post)
    turn.audit("post.unschedule", post)
    menu_text, markup = screens.main_menu(is_admin=turn.editor.is_admin)
    turn.go(State.MENU, post=None)
    turn.out.send(f"{texts.unscheduled()}\n\n{menu_text}", markup)


# --- Drafts and scheduled lists ---------------------------------------------------------------------------


def _page(callback: Callback) -> int:
    return int(callback.arg) if callback.arg.isdigit() and 0 < int(callback.arg) < 10_000 else 1


def _list(turn: Turn, callback: Callback, *, status: str) -> None:
    page = content_selectors.posts_for(
        destination=turn.studio.destination, status=status, page=_page(callback), per_page=PAGE_SIZE
    )
    posts = list(page.object_list)
    drafts = status == "draft"
    if not posts:
        empty = texts.no_drafts() if drafts else texts.no_scheduled()
        turn.go(State.MENU, (empty, screens.with_nav([], cb(Action.MENU))), post=None)
        return
    pages = page.paginator.num_pages
    title = texts.drafts_title(page.number, pages) if drafts else texts.scheduled_title(page.number, pages)
    screen = screens.post_list(
        posts,
        page=page.number,
        pages=pages,
        title=title,
        open_action=Action.DRAFT if drafts else Action.SCHEDULED_POST,
        page_action=Action.DRAFTS if drafts else Action.SCHEDULED,
        zone=turn.zone,
    )
    turn.go(State.MENU, screen, post=None)


def _drafts(turn: Turn, callback: Callback, post: Any) -> None:
    _list(turn, callback, status="draft")


def _scheduled(turn: Turn, callback: Callback, post: Any) -> None:
    _list(turn, callback, status="scheduled")


def _open_post(turn: Turn, callback: Callback, post: Any) -> None:
    if post.status not in EDITABLE:
        _stale(turn, texts.stale_published())
        return
    _show_post(turn, post)


# --- Analytics and export ---------------------------------------------------------------------------------


def _analytics(turn: Turn, callback: Callback, post: Any) -> None:
    turn.go(State.MENU, screens.analytics_menu(), post=None)


def _analytics_view(turn: Turn, callback: Callback, post: Any) -> None:
    from herald.studio import analytics

    view = {Action.DAILY: "daily", Action.TOP: "top", Action.FORMATS: "formats"}[callback.action]
    turn.audit(f"analytics.{view}")
    turn.go(State.MENU, screens.analytics_result(analytics.report(turn.studio, view)), post=None)


def _weekly(turn: Turn, callback: Callback, post: Any) -> None:
    from herald.studio.tasks import studio_weekly_chart_task

    turn.audit("analytics.weekly")
    turn.show((texts.preparing(), screens.only_menu()))
    studio_pk, chat_id, key = turn.studio.pk, turn.user_id, f"studio:{turn.update.pk}:chart"
    transaction.on_commit(lambda: studio_weekly_chart_task.delay(studio_pk, chat_id, key))


def _export(turn: Turn, callback: Callback, post: Any) -> None:
    turn.go(State.MENU, screens.export_menu(), post=None)


def _export_as(turn: Turn, callback: Callback, post: Any) -> None:
    from herald.studio.tasks import studio_export_task

    fmt = callback.arg
    if fmt not in EXPORTS:
        turn.go(State.MENU, screens.export_menu(), post=None)
        return
    turn.audit(f"export.{fmt}")
    turn.show((texts.preparing(), screens.only_menu()))
    studio_pk, chat_id, key = turn.studio.pk, turn.user_id, f"studio:{turn.update.pk}:export"
    transaction.on_commit(lambda: studio_export_task.delay(studio_pk, chat_id, fmt, key))


# --- Settings (admins) ------------------------------------------------------------------------------------


def _admin_only(turn: Turn) -> bool:
    if turn.editor.is_admin:
        return True
    turn.audit("settings.denied")
    turn.show((texts.admins_only(), screens.only_menu()))
    return False


def _settings(turn: Turn, callback: Callback, post: Any) -> None:
    if _admin_only(turn):
        turn.go(State.MENU, screens.settings_menu(turn.studio), post=None)


def _saved(turn: Turn, what: str, value: str) -> None:
    turn.audit(f"settings.{what}", value=value)
    with translation.override(turn.studio.interface_language):
        text, markup = screens.settings_menu(turn.studio)
        turn.go(State.MENU, (f"{texts.saved()}\n\n{text}", markup), post=None)


def _set_setting(
    turn: Turn, callback: Callback, *, field: str, choices: Collection[str], choose: Callable[[], Any]
) -> None:
    """An admin's pick for one studio setting: saved if it is one of ``choices``, else the choice again."""
    if not _admin_only(turn):
        return
    if callback.arg in choices:
        studio_update(studio=turn.studio, **{field: callback.arg})
        _saved(turn, field, callback.arg)
    else:
        turn.go(State.MENU, choose())


def _set_language(turn: Turn, callback: Callback, post: Any) -> None:
    _set_setting(
        turn,
        callback,
        field="language",
        choices=texts.POST_LANGUAGE_LABELS,
        choose=lambda: screens.language_choice(Action.SET_LANGUAGE, turn.studio.language),
    )


def _set_ui_language(turn: Turn, callback: Callback, post: Any) -> None:
    _set_setting(
        turn,
        callback,
        field="interface_language",
        choices=texts.POST_LANGUAGE_LABELS,
        choose=lambda: screens.language_choice(Action.SET_UI_LANGUAGE, turn.studio.interface_language),
    )


def _set_format(turn: Turn, callback: Callback, post: Any) -> None:
    _set_setting(
        turn,
        callback,
        field="default_format",
        choices=texts.FORMAT_LABELS,
        choose=lambda: screens.format_choice(turn.studio.default_format),
    )


def _set_timezone(turn: Turn, callback: Callback, post: Any) -> None:
    if not _admin_only(turn):
        return
    if callback.arg:
        _apply_timezone(turn, callback.arg)
    else:
        turn.go(State.TIMEZONE, screens.timezone_choice(turn.studio.timezone))


def _apply_timezone(turn: Turn, name: str) -> None:
    try:
        studio_update(studio=turn.studio, timezone=name)
    except InvalidInput as exc:
        turn.audit("invalid_input", reason="timezone", input=name[:64])
        turn.out.send(escape_html(exc.message), screens.timezone_choice(turn.studio.timezone)[1])
        return
    _saved(turn, "timezone", turn.studio.timezone)


def _on_typed_timezone(turn: Turn, post: Any, text: str) -> None:
    if _admin_only(turn):
        _apply_timezone(turn, text)


def _editors(turn: Turn, callback: Callback, post: Any) -> None:
    if _admin_only(turn):
        ids = list(turn.studio.editors.values_list("telegram_user_id", flat=True))
        turn.go(State.MENU, screens.editors(turn.studio, screens.editor_names(turn.studio, ids)), post=None)


def _editor_add(turn: Turn, callback: Callback, post: Any) -> None:
    if _admin_only(turn):
        turn.go(State.EDITOR_ADD, screens.editor_add(), post=None)


def _on_editor_id(turn: Turn, post: Any, text: str) -> None:
    if not _admin_only(turn):
        return
    if not text.isdigit():
        turn.audit("invalid_input", reason="editor id", input=text[:20])
        turn.out.send(texts.not_a_user_id(), screens.editor_add()[1])
        return
    editor_add(studio=turn.studio, telegram_user_id=int(text))
    turn.audit("settings.editor_added", user=int(text))
    ids = list(turn.studio.editors.values_list("telegram_user_id", flat=True))
    text_, markup = screens.editors(turn.studio, screens.editor_names(turn.studio, ids))
    turn.go(State.MENU, post=None)
    turn.out.send(f"{texts.saved()}\n\n{text_}", markup)


def _editor_change(turn: Turn, callback: Callback, post: Any) -> None:
    if not _admin_only(turn) or not callback.arg.isdigit():
        return
    uid = int(callback.arg)
    if callback.action == Action.EDITOR_REMOVE:
        editor_remove(studio=turn.studio, telegram_user_id=uid)
        turn.audit("settings.editor_removed", user=uid)
    else:
        editor_admin_toggle(studio=turn.studio, telegram_user_id=uid)
        turn.audit("settings.editor_admin", user=uid)
    _editors(turn, callback, post)


def _noop(turn: Turn, callback: Callback, post: Any) -> None:
    return


_ACTIONS = {
    Action.MENU: _menu,
    Action.HELP: _help,
    Action.NEW: _new,
    Action.FORMAT: _format,
    Action.KEYWORDS: _keywords_screen,
    Action.DETAILS: _details_screen,
    Action.SKIP: _skip,
    Action.APPROVE: _approve,
    Action.EDIT: _edit,
    Action.REGENERATE: _regenerate,
    Action.RETRY_GENERATION: _retry_generation,
    Action.MEDIA: _media_choice,
    Action.BACK_TO_MEDIA: _back_to_media,
    Action.PREVIEW: _preview_button,
    Action.PUBLISH: _publish,
    Action.RETRY_PUBLISH: _retry_publish,
    Action.SCHEDULE: _schedule,
    Action.EDIT_MORE: _edit_more,
    Action.DELETE: _delete,
    Action.DRAFTS: _drafts,
    Action.DRAFT: _open_post,
    Action.SCHEDULED: _scheduled,
    Action.SCHEDULED_POST: _open_post,
    Action.UNSCHEDULE: _unschedule,
    Action.ANALYTICS: _analytics,
    Action.DAILY: _analytics_view,
    Action.WEEKLY: _weekly,
    Action.TOP: _analytics_view,
    Action.FORMATS: _analytics_view,
    Action.EXPORT: _export,
    Action.EXPORT_AS: _export_as,
    Action.SETTINGS: _settings,
    Action.SET_LANGUAGE: _set_language,
    Action.SET_UI_LANGUAGE: _set_ui_language,
    Action.SET_TIMEZONE: _set_timezone,
    Action.SET_FORMAT: _set_format,
    Action.EDITORS: _editors,
    Action.EDITOR_ADD: _editor_add,
    Action.EDITOR_ADMIN: _editor_change,
    Action.EDITOR_REMOVE: _editor_change,
    Action.NOOP: _noop,
}

_TEXT_HANDLERS = {
    State.KEYWORDS: _on_keywords,
    State.DETAILS: _on_details,
    State.EDIT_TEXT: _on_edited_text,
    State.MANUAL_TEXT: _on_manual_text,
    State.SCHEDULE_TIME: _on_typed_time,
    State.TIMEZONE: _on_typed_timezone,
    State.EDITOR_ADD: _on_editor_id,
}
