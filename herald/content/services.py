"""Every write of the content app: destinations, drafts, schedules, publishing through the gateway, tracked
link clicks and reactions.

A post's status row is the truth about work owed. Publishing starts with a conditional update (scheduled,
queued or due for a retry -> publishing) in the same transaction that queues the first send in the outbox
under a key made of the post and the attempt, so a post is handed to Telegram once however many workers
wake for it. The outbox's signals (and the sweeper, when a signal was lost) move it on: the next part,
then published, or failed with Telegram's own words and an automatic retry.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from herald.bots.models import TelegramBot
from herald.content.models import (
    Destination,
    DestinationKind,
    MediaKind,
    Post,
    PostEvent,
    PostEventKind,
    PostFormat,
    PostLanguage,
    PostMessage,
    PostReactions,
    PostStatus,
    TextSource,
    TrackedLink,
)
from herald.content.rendering import post_sends
from herald.content.signals import post_publish_failed, post_published
from herald.core.errors import Conflict, InvalidInput, NotFound
from herald.telegram.formatting import TEXT_LIMIT, telegram_length
from herald.telegram.models import OutboundMessage
from herald.telegram.services import outbox_enqueue, outbox_send

logger = logging.getLogger(__name__)

# Telegram's upload limits for bots: photos 10 MB, other files 50 MB.
MEDIA_MAX_BYTES = {
    MediaKind.PHOTO: 10 * 1024 * 1024,
    MediaKind.VIDEO: 50 * 1024 * 1024,
    MediaKind.ANIMATION: 50 * 1024 * 1024,
}
MAX_LINKS = 8
MAX_LINK_TEXT = 64
MAX_KEYWORDS = 500
MAX_DETAILS = 2000
# How far ahead a post may be scheduled.
MAX_SCHEDULE_AHEAD = dt.timedelta(days=366)
# A wake-up may come this much before its time (another host's clock); it waits instead of dropping.
EARLY_WAKE_TOLERANCE_SECONDS = 1.0
# The sweeper arms posts due within this much with a wake-up at their exact time.
SWEEP_LOOKAHEAD = dt.timedelta(seconds=90)
_CHANNEL_USERNAME = re.compile(r"^@?[A-Za-z][A-Za-z0-9_]{3,31}$")
_CHAT_ID = re.compile(r"^-?[0-9]{1,20}$")
_LINK_CODE = re.compile(r"^[A-Za-z0-9_-]{4,16}$")

EDITABLE_FIELDS = frozenset(
    {
        "format",
        "keywords",
        "details",
        "language",
        "text",
        "text_source",
        "media_kind",
        "media_file_id",
        "media_file_unique_id",
        "media_file_size",
        "links",
    }
)
# Fields that change what the channel shows: a post partly delivered before starts again from the top.
_CONTENT_FIELDS = frozenset({"text", "media_kind", "media_file_id", "links"})


def _reference(post_id: int) -> str:
    return f"post:{post_id}"


def _attempt_prefix(post_id: int, attempt: int) -> str:
    return f"post:{post_id}:{attempt}:"


# --- Destinations -----------------------------------------------------------------------------------------


def timezone_check(name: str, *, field: str = "timezone") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"{field}: not a time zone name like Asia/Yerevan: {name!r}", field=field) from exc
    return name


def destination_for_telegram_chat(
    *,
    bot: TelegramBot,
    chat_id: int | str,
    username: str = "",
    title: str = "",
    timezone: str = "Asia/Yerevan",
) -> Destination:
    """The destination for a channel of ``bot`` (created on first use, its title and time zone kept current).

    ``chat_id`` is the numeric ``-100…`` id, or the channel's ``@username`` until the id is known (the first
    publication learns it).
    """
    text = str(chat_id).strip()
    if _CHANNEL_USERNAME.match(text) and not _CHAT_ID.match(text):
        username = username or text.lstrip("@")
        text = "@" + text.lstrip("@")
    elif not _CHAT_ID.match(text):
        raise InvalidInput(
            f"channel: give the channel's @username or its numeric id (-100…), not {chat_id!r}",
            field="channel",
        )
    username = username.strip().lstrip("@")
    timezone_check(timezone)
    matches = Destination.objects.filter(kind=DestinationKind.TELEGRAM, bot=bot)
    found = matches.filter(chat_id=text).first()
    if found is None and username:
        found = matches.filter(username__iexact=username).first()
    if found is None:
        try:
            with transaction.atomic():
                return Destination.objects.create(
                    kind=DestinationKind.TELEGRAM,
                    bot=bot,
                    chat_id=text,
                    username=username,
                    title=title.strip()[:255],
                    timezone=timezone,
                )
        except IntegrityError:  # created concurrently
            found = matches.get(chat_id=text)
    changed: dict[str, Any] = {"timezone": timezone}
    if title.strip():
        changed["title"] = title.strip()[:255]
    if username:
        changed["username"] = username
    if _CHAT_ID.match(text):
        changed["chat_id"] = text  # the numeric id replaces an @username
    for name, value in changed.items():
        setattr(found, name, value)
    found.save(update_fields=[*changed, "updated_at"])
    return found


# --- Drafts -----------------------------------------------------------------------------------------------


def post_create_draft(
    *,
    destination: Destination,
    author_telegram_id: int,
    format: str = PostFormat.SELLING,
    language: str = PostLanguage.ARMENIAN,
) -> Post:
    """A new, empty draft: the studio fills it in step by step, so nothing typed is lost."""
    fields = _clean_fields({"format": format, "language": language})
    return Post.objects.create(
        destination=destination, author_telegram_id=int(author_telegram_id), status=PostStatus.DRAFT, **fields
    )


def _choice(value: Any, choices: Any, field: str) -> str:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise InvalidInput(f"{field}: must be one of {allowed}, got {value!r}", field=field)
    return str(value)


def _text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: must be text", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field}: at most {limit} characters (got {len(value)})", field=field)
    return value


def _links(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise InvalidInput('links: must be a list of {"text", "url"}', field="links")
    if len(value) > MAX_LINKS:
        raise InvalidInput(f"links: at most {MAX_LINKS} buttons", field="links")
    clean = []
    for index, item in enumerate(value):
        field = f"links[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("url"), str):
            raise InvalidInput(f'{field}: must be {{"text": …, "url": …}}', field=field)
        url = item["url"].strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
            raise InvalidInput(f"{field}.url: must be an http(s) address, got {url[:100]!r}", field=field)
        text = str(item.get("text") or parts.hostname).strip()
        if not text or telegram_length(text) > MAX_LINK_TEXT:
            raise InvalidInput(f"{field}.text: 1 to {MAX_LINK_TEXT} characters", field=field)
        clean.append({"text": text, "url": url})
    return clean


def _clean_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(f"these post fields cannot be changed: {', '.join(unknown)}", field=unknown[0])
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "format":
            clean[name] = _choice(value, PostFormat, name)
        elif name == "language":
            clean[name] = _choice(value, PostLanguage, name)
        elif name == "text_source":
            clean[name] = _choice(value, TextSource, name)
        elif name == "media_kind":
            clean[name] = _choice(value, MediaKind, name)
        elif name == "text":
            text = _text(value, name, TEXT_LIMIT * 2)
            if telegram_length(text.strip()) > TEXT_LIMIT:
                raise InvalidInput(
                    f"text: Telegram allows {TEXT_LIMIT} characters in a post; this one has "
                    f"{telegram_length(text.strip())}",
                    field="text",
                )
            clean[name] = text
        elif name == "keywords":
            clean[name] = _text(value, name, MAX_KEYWORDS)
        elif name == "details":
            clean[name] = _text(value, name, MAX_DETAILS)
        elif name in ("media_file_id", "media_file_unique_id"):
            clean[name] = _text(value or "", name, 255 if name == "media_file_id" else 128)
        elif name == "media_file_size":
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise InvalidInput("media_file_size: must be a number of bytes", field=name)
            clean[name] = value
        elif name == "links":
            clean[name] = _links(value)
    return clean


def _check_media(post: Post) -> None:
    if post.media_kind == MediaKind.NONE:
        post.media_file_id = post.media_file_unique_id = ""
        post.media_file_size = None
        return
    if not post.media_file_id:
        raise InvalidInput(
            f"media_file_id: a {post.media_kind} needs its Telegram file id", field="media_file_id"
        )
    limit = MEDIA_MAX_BYTES[MediaKind(post.media_kind)]
    if post.media_file_size is not None and post.media_file_size > limit:
        raise InvalidInput(
            f"media_file_size: a {post.media_kind} may be at most {limit // (1024 * 1024)} MB, "
            f"this one is {post.media_file_size / (1024 * 1024):.1f} MB",
            field="media_file_size",
        )


def _refused(post_id: int, action: str) -> Exception:
    """Why a conditional update found nothing: the post is gone, or not in a state that allows ``action``."""
    current = Post.objects.filter(pk=post_id).values_list("status", flat=True).first()
    if current is None:
        return NotFound("This post no longer exists (it was deleted).", code="post_not_found")
    if current == PostStatus.PUBLISHING:
        return Conflict(f"Cannot {action}: the post is being published right now.", code="post_publishing")
    if current in (PostStatus.PUBLISHED, PostStatus.ARCHIVED):
        return Conflict(f"Cannot {action}: the post is already published.", code="post_published")
    return Conflict(f"Cannot {action}: the post was changed meanwhile; open it again.", code="post_changed")


def _transition(post: Post, allowed: Sequence[str], action: str, **updates: Any) -> Post:
    """Apply ``updates`` if the post is still in one of ``allowed`` (whatever another process did)."""
    done = Post.objects.filter(pk=post.pk, status__in=list(allowed)).update(
        version=F("version") + 1, updated_at=timezone.now(), **updates
    )
    if not done:
        raise _refused(post.pk, action)
    post.refresh_from_db()
    return post


@transaction.atomic
def post_update(*, post: Post, **fields: Any) -> Post:
    """Change a draft, a scheduled or a failed post (text, media, links, format…); Conflict otherwise.

    Refused as well when the post changed since it was read (its ``version``), so two screens cannot
    overwrite each other's edits unseen.
    """
    clean = _clean_fields(fields)
    current = Post.objects.select_for_update().filter(pk=post.pk).first()
    if current is None or current.status not in Post.EDITABLE_STATUSES or current.version != post.version:
        raise _refused(post.pk, "edit it")
    for name, value in clean.items():
        setattr(current, name, value)
    _check_media(current)
    if _CONTENT_FIELDS & set(clean):
        current.channel_message_ids = []  # what a failed attempt delivered no longer matches the post
    current.version += 1
    current.save()
    return current


def _check_publishable(post: Post) -> None:
    if not post.text.strip() and post.media_kind == MediaKind.NONE:
        raise InvalidInput("text: the post is empty; write a text or add media first", field="text")
    _check_media(post)


def post_publish_now(*, post: Post) -> Post:
    """Queue the post for publishing at once (draft, scheduled or failed -> publishing); returns at once.

    The outcome arrives through ``post_published`` / ``post_publish_failed``.
    """
    _check_publishable(post)
    with transaction.atomic():
        post = _transition(
            post,
            Post.EDITABLE_STATUSES,
            "publish it",
            status=PostStatus.PUBLISHING,
            publish_claimed_at=None,
            next_retry_at=None,
            scheduled_at=None,
            publish_round_start=F("publish_attempts"),
        )
        transaction.on_commit(lambda: _wake(post.pk))
    return post


def post_schedule(*, post: Post, at: dt.datetime) -> Post:
    """Schedule (or reschedule) the post for ``at`` (an aware time in the future)."""
    if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("at: give a time with its time zone", field="at")
    now = timezone.now()
    if at <= now:
        raise InvalidInput("at: this time is in the past; choose a later time", field="at")
    if at > now + MAX_SCHEDULE_AHEAD:
        raise InvalidInput("at: a post can be scheduled at most a year ahead", field="at")
    _check_publishable(post)
    at = at.astimezone(dt.UTC)
    with transaction.atomic():
        post = _transition(
            post,
            Post.EDITABLE_STATUSES,
            "schedule it",
            status=PostStatus.SCHEDULED,
            scheduled_at=at,
            next_retry_at=None,
            publish_round_start=F("publish_attempts"),
        )
        if at - now <= dt.timedelta(seconds=settings.CONTENT_SCHEDULE_HORIZON_SECONDS):
            transaction.on_commit(lambda: _wake(post.pk, eta=at))
    return post


def post_unschedule(*, post: Post) -> Post:
    """Cancel the schedule: the post goes back to the drafts."""
    with transaction.atomic():
        return _transition(
            post, [PostStatus.SCHEDULED], "cancel the schedule", status=PostStatus.DRAFT, scheduled_at=None
        )


def post_delete(*, post: Post) -> None:
    """Delete a draft (or a scheduled or failed post) for good; a published post stays for the analytics."""
    deleted, _ = Post.objects.filter(pk=post.pk, status__in=list(Post.EDITABLE_STATUSES)).delete()
    if not deleted:
        raise _refused(post.pk, "delete it")


# --- Publishing -------------------------------------------------------------------------------------------


def _wake(post_id: int, *, eta: dt.datetime | None = None, countdown: float | None = None) -> None:
    """Ask a worker to publish the post. Losing this only delays it: the sweeper finds the post."""
    from herald.content.tasks import post_publish_task

    try:
        post_publish_task.apply_async((post_id,), eta=eta, countdown=countdown)
    except Exception:
        logger.exception("could not enqueue publishing of post %s; the sweeper will do it", post_id)


def _claimable(now: dt.datetime) -> Q:
    return (
        Q(status=PostStatus.SCHEDULED, scheduled_at__lte=now)
        | Q(status=PostStatus.PUBLISHING, publish_claimed_at__isnull=True)
        | Q(status=PostStatus.FAILED, next_retry_at__lte=now)
    )


def _publish_problem(post: Post) -> str:
    """Why this post cannot be sent at all (no retry would help), or ''."""
    destination = post.destination
    if destination.kind != DestinationKind.TELEGRAM or destination.bot is None:
        return "this destination has no Telegram bot to publish with"
    if not destination.bot.is_active:
        return "the channel's bot is switched off"
    if not post.text.strip() and post.media_kind == MediaKind.NONE:
        return "the post is empty"
    if post.media_kind != MediaKind.NONE and not post.media_file_id:
        return "the post's media is missing"
    return ""


def _new_link_code() -> str:
    return secrets.token_urlsafe(6)  # 8 characters, 48 bits


def tracked_url(code: str) -> str:
    return f"{settings.HERALD_PUBLIC_URL}/r/{code}"


def _tracked_buttons(post: Post) -> list[tuple[str, str]]:
    """The post's links as tracked ``/r/<code>`` buttons (the same codes on every attempt)."""
    existing = {link.url: link for link in post.tracked_links.all()}
    buttons = []
    for item in post.links or []:
        link = existing.get(item["url"])
        if link is None:
            for _ in range(5):
                try:
                    with transaction.atomic():
                        link = TrackedLink.objects.create(
                            code=_new_link_code(), post=post, text=item["text"], url=item["url"]
                        )
                    break
                except IntegrityError:  # a code collision; another try draws another code
                    continue
            else:  # pragma: no cover - 48 random bits colliding five times
                raise Conflict("could not draw a unique link code", code="link_code_exhausted")
            existing[item["url"]] = link
        buttons.append((item["text"], tracked_url(link.code)))
    return buttons


def _enqueue_part(post: Post, sends: list[tuple[str, dict[str, Any]]], index: int) -> OutboundMessage:
    method, params = sends[index]
    bot = post.destination.bot
    assert bot is not None  # checked by _publish_problem
    return outbox_enqueue(
        token=bot.token,
        chat_id=post.destination.chat_id,
        method=method,
        params=params,
        dedupe_key=f"{_attempt_prefix(post.pk, post.publish_attempts)}{index}",
        reference=_reference(post.pk),
    )


def post_publish(*, post_id: int) -> Post | None:
    """The worker's job: hand a due post to the gateway, once; ``None`` when there was nothing to do.

    The claim (scheduled and due, queued, or failed and due for a retry -> publishing) and queueing the
    first part in the outbox are one transaction, so two workers waking for the same post send it once.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = (
            Post.objects.filter(pk=post_id)
            .filter(_claimable(now))
            .update(
                status=PostStatus.PUBLISHING,
                publish_claimed_at=now,
                publish_attempts=F("publish_attempts") + 1,
                next_retry_at=None,
                version=F("version") + 1,
                updated_at=now,
            )
        )
        if claimed:
            post = Post.objects.select_related("destination__bot").get(pk=post_id)
            problem = _publish_problem(post)
            if problem:
                _publication_failed(post, f"Not sent: {problem}.", retry=False)
                return post
            sends = post_sends(post=post, buttons=_tracked_buttons(post))
            first = _enqueue_part(post, sends, len(post.channel_message_ids))
    if claimed:
        # Sent from here rather than by the outbox's own wake-up, which waits for the broker to hand it
        # to a worker; whichever comes first sends it, the other finds it taken.
        try:
            outbox_send(message_id=first.pk)
        except Exception:  # the outbox's wake-up (or its sweeper) sends it instead
            logger.exception("could not send the first part of post %s at once", post_id)
        post.refresh_from_db()
        return post
    # Nothing to claim. A wake-up a moment before the post's time waits for it instead of dropping.
    due = (
        Post.objects.filter(pk=post_id)
        .filter(Q(status=PostStatus.SCHEDULED) | Q(status=PostStatus.FAILED))
        .values_list("status", "scheduled_at", "next_retry_at")
        .first()
    )
    if due is not None:
        status, scheduled_at, retry_at = due
        when = scheduled_at if status == PostStatus.SCHEDULED else retry_at
        if when is not None and now < when <= now + dt.timedelta(seconds=EARLY_WAKE_TOLERANCE_SECONDS):
            time.sleep((when - timezone.now()).total_seconds() + 0.001)
            return post_publish(post_id=post_id)
    return None


def _attempt_rows(post: Post) -> dict[int, OutboundMessage]:
    """The outbox rows of the post's current attempt, by part index."""
    prefix = _attempt_prefix(post.pk, post.publish_attempts)
    rows = (
        OutboundMessage.objects.filter(reference=_reference(post.pk), dedupe_key__startswith=prefix)
        .defer("bot_token")
        .order_by("pk")
    )
    found = {}
    for row in rows:
        index_text = (row.dedupe_key or "")[len(prefix) :].split("#", 1)[0]
        if index_text.isdigit():
            found[int(index_text)] = row
    return found


def publication_advance(*, post_id: int) -> Post | None:
    """Move a post being published on from what the gateway did: queue its next part, record it published,
    or failed. Called for every outbox outcome of the post, and by the sweeper; safe to call any time.
    """
    post = (
        Post.objects.select_related("destination__bot")
        .filter(pk=post_id, status=PostStatus.PUBLISHING, publish_claimed_at__isnull=False)
        .first()
    )
    if post is None:
        return None
    rows = _attempt_rows(post)
    failed = [row for index, row in sorted(rows.items()) if row.status == OutboundMessage.Status.FAILED]
    if failed:
        _publication_failed(post, failed[0].last_error or "Telegram did not accept the post.", rows=rows)
        return post
    sends = post_sends(post=post, buttons=_tracked_buttons(post))
    start = len(post.channel_message_ids)
    for index in range(start, len(sends)):
        row = rows.get(index)
        if row is None:
            _enqueue_part(post, sends, index)  # the part before it was sent; idempotent by its key
            return post
        if row.status != OutboundMessage.Status.SENT:
            return post  # still in the outbox
    _publication_succeeded(post, rows, start=start, parts=len(sends))
    return post


def _delivered_ids(post: Post, rows: Mapping[int, OutboundMessage]) -> list[int]:
    """Message ids of the parts in the channel: earlier attempts' (kept on the post), then this attempt's
    parts in order for as long as they were sent."""
    ids = [int(i) for i in post.channel_message_ids]
    index = len(ids)
    while index in rows and rows[index].status == OutboundMessage.Status.SENT:
        message_id = rows[index].telegram_message_id
        if message_id is None:
            break
        ids.append(int(message_id))
        index += 1
    return ids


def _record_messages(post: Post, message_ids: Sequence[int]) -> None:
    PostMessage.objects.bulk_create(
        [PostMessage(post=post, destination=post.destination, message_id=mid) for mid in message_ids],
        ignore_conflicts=True,
    )


def _learn_chat_id(post: Post, rows: Mapping[int, OutboundMessage]) -> None:
    """A channel given by @username: Telegram's answer tells its numeric id, which reactions use."""
    destination = post.destination
    if not destination.chat_id.startswith("@"):
        return
    for row in rows.values():
        chat = (row.result or {}).get("chat") if isinstance(row.result, dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            Destination.objects.filter(pk=destination.pk).update(chat_id=str(chat["id"]))
            destination.chat_id = str(chat["id"])
            return


def _publication_succeeded(
    post: Post, rows: Mapping[int, OutboundMessage], *, start: int, parts: int
) -> None:
    ids = _delivered_ids(post, rows)
    sent_times = [row.sent_at for index, row in rows.items() if index >= start and row.sent_at is not None]
    published_at = min(sent_times) if sent_times else timezone.now()
    with transaction.atomic():
        done = Post.objects.filter(
            pk=post.pk, status=PostStatus.PUBLISHING, publish_attempts=post.publish_attempts
        ).update(
            status=PostStatus.PUBLISHED,
            published_at=published_at,
            channel_message_ids=ids,
            publish_claimed_at=None,
            last_error="",
            next_retry_at=None,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        if not done:
            return
        _learn_chat_id(post, rows)
        _record_messages(post, ids)
        data: dict[str, Any] = {"message_ids": ids, "attempt": post.publish_attempts, "parts": parts}
        if post.scheduled_at is not None:
            data["late_seconds"] = round((published_at - post.scheduled_at).total_seconds(), 3)
        PostEvent.objects.create(post=post, kind=PostEventKind.PUBLISHED, at=published_at, data=data)
        post.refresh_from_db()
    post_published.send(sender=Post, post=post)


def _publication_failed(
    post: Post, error: str, *, retry: bool = True, rows: Mapping[int, OutboundMessage] | None = None
) -> None:
    """Keep the post with Telegram's words; book the automatic retry while attempts remain."""
    attempts_this_round = post.publish_attempts - post.publish_round_start
    will_retry = retry and attempts_this_round < settings.CONTENT_PUBLISH_MAX_ATTEMPTS
    retry_at = (
        timezone.now() + dt.timedelta(seconds=settings.CONTENT_PUBLISH_RETRY_SECONDS) if will_retry else None
    )
    # parts that did reach the channel are kept, so a retry sends only the rest
    ids = _delivered_ids(post, rows) if rows else list(post.channel_message_ids)
    with transaction.atomic():
        done = Post.objects.filter(
            pk=post.pk, status=PostStatus.PUBLISHING, publish_attempts=post.publish_attempts
        ).update(
            status=PostStatus.FAILED,
            last_error=error,
            next_retry_at=retry_at,
            publish_claimed_at=None,
            channel_message_ids=ids,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        if not done:
            return
        _record_messages(post, ids)
        PostEvent.objects.create(
            post=post,
            kind=PostEventKind.FAILED,
            data={"error": error, "attempt": post.publish_attempts, "will_retry": will_retry},
        )
        post.refresh_from_db()
        if will_retry:
            post_id = post.pk
            transaction.on_commit(
                lambda: _wake(post_id, countdown=settings.CONTENT_PUBLISH_RETRY_SECONDS + 0.5)
            )
    post_publish_failed.send(sender=Post, post=post, error=error, will_retry=will_retry)


def posts_due_sweep(*, now: dt.datetime | None = None, worker_started: bool = False) -> int:
    """The seed's every-minute check, a safety net under each post's own wake-up: publish posts that are
    due (their wake-up was lost), re-drive lost publications and automatic retries, and arm posts due
    within the next minute with a wake-up at their exact time. Returns how many posts it acted on.

    When a worker has just started, a worker may have died while moving a publication on: every post
    being published is looked at, not only those past ``CONTENT_PUBLISH_STALE_SECONDS``.
    """
    now = now or timezone.now()
    acted = 0
    owed = Post.objects.filter(
        Q(status=PostStatus.SCHEDULED, scheduled_at__lte=now)
        | Q(
            status=PostStatus.PUBLISHING,
            publish_claimed_at__isnull=True,
            updated_at__lt=now - dt.timedelta(seconds=5),
        )
        | Q(status=PostStatus.FAILED, next_retry_at__lte=now)
    ).order_by("scheduled_at", "pk")
    for post_id in owed.values_list("pk", flat=True)[:2000]:
        _wake(post_id)
        acted += 1
    stale = now if worker_started else now - dt.timedelta(seconds=settings.CONTENT_PUBLISH_STALE_SECONDS)
    stuck = Post.objects.filter(status=PostStatus.PUBLISHING, publish_claimed_at__lte=stale).order_by("pk")
    for post_id in stuck.values_list("pk", flat=True)[:500]:
        try:
            publication_advance(post_id=post_id)
        except Exception:  # one bad post must not stop the sweep of the others
            logger.exception("could not move post %s on", post_id)
        acted += 1
    soon = Post.objects.filter(
        status=PostStatus.SCHEDULED, scheduled_at__gt=now, scheduled_at__lte=now + SWEEP_LOOKAHEAD
    ).values_list("pk", "scheduled_at")
    for post_id, at in soon[:2000]:
        _wake(post_id, eta=at)
        acted += 1
    return acted


def posts_archive(*, now: dt.datetime | None = None) -> int:
    """Archive posts published more than ``CONTENT_ARCHIVE_AFTER_DAYS`` ago (the seed's 30 days)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.CONTENT_ARCHIVE_AFTER_DAYS)
    return Post.objects.filter(status=PostStatus.PUBLISHED, published_at__lt=cutoff).update(
        status=PostStatus.ARCHIVED, archived_at=now, version=F("version") + 1, updated_at=now
    )


# --- Analytics input --------------------------------------------------------------------------------------


def link_click(*, code: str) -> str:
    """Count a click on a tracked link; the URL to redirect to. NotFound for an unknown code."""
    if not isinstance(code, str) or not _LINK_CODE.match(code):
        raise NotFound("No such link.", code="link_not_found")
    with transaction.atomic():
        counted = TrackedLink.objects.filter(code=code).update(clicks=F("clicks") + 1)
        if not counted:
            raise NotFound("No such link.", code="link_not_found")
        link = TrackedLink.objects.get(code=code)
        PostEvent.objects.create(
            post_id=link.post_id, kind=PostEventKind.CLICK, data={"code": code, "url": link.url}
        )
    return link.url


def reaction_counts_from_update(payload: Mapping[str, Any]) -> dict[str, int]:
    """``{"👍": 3, …}`` from a ``message_reaction_count`` update's ``reactions`` (custom emoji as
    ``custom:<id>``, paid stars as ``paid``)."""
    counts: dict[str, int] = {}
    for item in payload.get("reactions") or []:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type") or {}
        if kind.get("type") == "emoji":
            key = str(kind.get("emoji", ""))
        elif kind.get("type") == "custom_emoji":
            key = f"custom:{kind.get('custom_emoji_id', '')}"
        elif kind.get("type") == "paid":
            key = "paid"
        else:
            continue
        total = item.get("total_count")
        if key and isinstance(total, int) and total >= 0:
            counts[key] = counts.get(key, 0) + total
    return counts


def reactions_record(
    *, bot: TelegramBot, chat_id: int | str, message_id: int, reactions: Mapping[str, int]
) -> Post | None:
    """Store the latest reaction counts of a channel message; the post it belongs to, or ``None`` when the
    message is not one of our posts."""
    clean: dict[str, int] = {}
    for emoji, count in reactions.items():
        if not isinstance(emoji, str) or not emoji or len(emoji) > 64:
            raise InvalidInput(f"reactions: not a reaction: {emoji!r}", field="reactions")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise InvalidInput(f"reactions: the count of {emoji} must be a whole number", field="reactions")
        if count:
            clean[emoji] = count
    found = (
        PostMessage.objects.filter(
            destination__bot=bot,
            destination__kind=DestinationKind.TELEGRAM,
            destination__chat_id=str(chat_id),
            message_id=message_id,
        )
        .select_related("post")
        .first()
    )
    if found is None:
        return None
    post = found.post
    with transaction.atomic():
        rows = {
            row.emoji: row
            for row in PostReactions.objects.select_for_update().filter(post=post, message_id=message_id)
        }
        before = sum(row.count for row in rows.values())
        for emoji, row in rows.items():
            if emoji not in clean:
                row.delete()
        for emoji, count in clean.items():
            existing = rows.get(emoji)
            if existing is None:
                PostReactions.objects.create(post=post, message_id=message_id, emoji=emoji, count=count)
            elif existing.count != count:
                existing.count = count
                existing.save(update_fields=["count", "updated_at"])
        after = sum(clean.values())
        PostEvent.objects.create(
            post=post,
            kind=PostEventKind.REACTION,
            data={"message_id": message_id, "reactions": clean, "delta": after - before},
        )
    return post
