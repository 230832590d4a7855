"""Outbox services: enqueue a message (or a fan-out), send rows, retry failed ones, re-drive lost wake-ups.

A row is claimed with a conditional UPDATE (pending -> sending) that also requires no older open row for the
same bot and chat, so a repeated wake-up sends nothing twice and each chat gets its messages in order; the
row that finishes wakes the next one of its chat. A fan-out (``outbox_enqueue_many``) is sent by drain
tasks that claim batches of rows the same way and send each batch concurrently.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import random
import re
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet
from django.utils import timezone
from telegram import TelegramObject

from herald.core.crypto import DecryptionError, token_fingerprint
from herald.core.errors import InvalidInput
from herald.core.leases import lease_give_back, lease_renew, lease_take
from herald.core.processes import claimant_is_gone, new_claim_tag
from herald.core.ratelimit import RateLimiterUnavailable
from herald.telegram import client, pacing
from herald.telegram.errors import (
    TelegramChatMigrated,
    TelegramError,
    TelegramHeldBack,
    TelegramInvalidToken,
    TelegramRetryAfter,
)
from herald.telegram.formatting import TEXT_LIMIT, caption_fits, plan_caption, split_text, telegram_length
from herald.telegram.models import OutboundMessage
from herald.telegram.signals import outbox_chat_migrated, outbox_message_failed, outbox_message_sent

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status
OPEN = OutboundMessage.OPEN_STATUSES

# A worker sleeps for a pacing slot up to this long; a later slot is booked and the row comes back then.
MAX_INLINE_WAIT_SECONDS = 1.5
# A countdown wake-up may arrive this much early (clocks of different hosts); it waits instead of dropping.
_EARLY_WAKE_TOLERANCE_SECONDS = 0.25
_BACKOFF_BASE_SECONDS = 2.0
_BACKOFF_CAP_SECONDS = 300.0
_SWEEP_BATCH = 500
DRAIN_BATCH = 100
# Paced, a drain claims and books what the bot may send in this long, then sends it while the next is booked.
BATCH_SECONDS = 1.0
# A drain renews its place every batch (a second or two); a dead one's place frees itself after this.
_DRAIN_LEASE_SECONDS = 20.0
_CAPTIONED_METHODS = frozenset(
    {"sendPhoto", "sendVideo", "sendAnimation", "sendDocument", "sendAudio", "sendVoice"}
)
_CAPTION_KEYS = ("caption", "caption_entities", "parse_mode", "show_caption_above_media")
_METHOD = re.compile(r"^[a-zA-Z]{1,64}$")
_CHAT_ID = re.compile(r"^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")


# --- Enqueue ----------------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, TelegramObject):
        return value.to_dict(recursive=True)
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _normalised_chat_id(chat_id: int | str) -> str:
    text = str(chat_id).strip()
    if isinstance(chat_id, bool) or not _CHAT_ID.match(text):
        raise InvalidInput(
            f"chat_id must be a numeric chat id or an @username, got {chat_id!r}", field="chat_id"
        )
    return text


def _api_chat_id(chat_id: str) -> int | str:
    return chat_id if chat_id.startswith("@") else int(chat_id)


def _spread(
    method: str, params: dict[str, Any], key: str, pieces: list[str]
) -> list[tuple[str, dict[str, Any]]]:
    """One send per piece of a split text: buttons under the last piece, a reply on the first."""
    sends = []
    for index, piece in enumerate(pieces):
        part = {**params, key: piece}
        if index < len(pieces) - 1:
            part.pop("reply_markup", None)
        if index > 0:
            part.pop("reply_parameters", None)
            part.pop("reply_to_message_id", None)
        sends.append((method, part))
    return sends


def _planned_sends(method: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The Bot API calls that deliver this message within Telegram's length limits, in order."""
    html = str(params.get("parse_mode", "")).upper() == "HTML"
    if method == "sendMessage":
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("sendMessage needs a non-empty text", field="params.text")
        return _spread(method, params, "text", split_text(text, TEXT_LIMIT, html=html))
    caption = params.get("caption")
    if method in _CAPTIONED_METHODS and isinstance(caption, str) and not caption_fits(caption):
        # Too long for a caption: the media goes bare, the text follows as messages carrying the buttons.
        media = {k: v for k, v in params.items() if k not in (*_CAPTION_KEYS, "reply_markup")}
        text_params = {
            k: v for k, v in params.items() if k in ("parse_mode", "reply_markup", "disable_notification")
        }
        follow_up = plan_caption(caption, html=html).follow_up
        return [(method, media), *_spread("sendMessage", text_params, "text", follow_up)]
    if method == "editMessageText" and telegram_length(str(params.get("text", ""))) > TEXT_LIMIT:
        raise InvalidInput(
            f"an edited text cannot be split: keep it within {TEXT_LIMIT} characters", field="params.text"
        )
    return [(method, params)]


class _WakesTogether(threading.local):
    """The rows queued (and committed) in this thread inside ``outbox_wakes_together``, per bot."""

    depth = 0

    def __init__(self) -> None:
        self.rows: dict[str, list[int]] = {}


_together = _WakesTogether()


@contextlib.contextmanager
def outbox_wakes_together() -> Iterator[None]:
    """Wake the rows ``outbox_enqueue`` queues inside this block when it ends, a bot's rows together.

    For code that queues many single messages in a row (a worker processing a burst of updates): a bot
    with one new row gets that row's wake-up as usual; a bot with several gets drains, which claim, pace and
    send them in batches, instead of a task per row. Rows are still committed (and safe) as they are
    queued; only their wake-ups wait for the end of the block.
    """
    _together.depth += 1
    try:
        yield
    finally:
        _together.depth -= 1
        if not _together.depth:
            rows, _together.rows = _together.rows, {}
            for fingerprint, pks in rows.items():
                if len(pks) == 1:
                    _wake(pks[0])
                else:
                    _wake_drains(fingerprint, min(_drains_per_bot(), -(-len(pks) // DRAIN_BATCH)))


def _wake_queued(message: OutboundMessage) -> None:
    if _together.depth:
        _together.rows.setdefault(message.bot_fingerprint, []).append(message.pk)
    else:
        _wake(message.pk)


def _wake(message_id: int, *, countdown: float | None = None) -> None:
    """Ask a worker to send a row. Losing this wake-up only delays the row: the sweeper finds it."""
    from herald.telegram.tasks import outbox_send_task

    try:
        outbox_send_task.apply_async(
            (message_id,), countdown=countdown if countdown and countdown > 0 else None
        )
    except Exception:
        logger.exception("could not enqueue outbox message %s; the sweeper will re-drive it", message_id)


def outbox_enqueue(
    *,
    token: str,
    chat_id: int | str,
    method: str,
    params: dict[str, Any],
    dedupe_key: str | None = None,
    reference: str = "",
) -> OutboundMessage:
    """Queue a Bot API send; returns its (first) row. The send starts once the caller's transaction commits.

    A text over 4096 characters becomes several rows sent in order, as does a caption over 1024 (the media
    bare, then the text). The same ``dedupe_key`` again returns the first row and queues nothing.
    """
    if not token:
        raise InvalidInput("a bot token is required", field="token")
    if not _METHOD.match(method):
        raise InvalidInput(f"not a Bot API method name: {method!r}", field="method")
    chat = _normalised_chat_id(chat_id)
    clean = _jsonable({k: v for k, v in params.items() if k != "chat_id"})
    try:
        json.dumps(clean)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"params must be JSON (file ids or URLs, not file objects): {exc}", field="params"
        ) from exc
    sends = _planned_sends(method, clean)
    fingerprint = token_fingerprint(token)
    try:
        with transaction.atomic():
            rows = [
                OutboundMessage.objects.create(
                    bot_fingerprint=fingerprint,
                    bot_token=token,
                    chat_id=chat,
                    method=send_method,
                    params=send_params,
                    dedupe_key=None
                    if dedupe_key is None
                    else dedupe_key
                    if index == 0
                    else f"{dedupe_key}#{index + 1}",
                    reference=reference,
                )
                for index, (send_method, send_params) in enumerate(sends)
            ]
    except IntegrityError:
        if dedupe_key is None:
            raise
        existing = OutboundMessage.objects.filter(dedupe_key=dedupe_key).first()
        if existing is None:
            raise
        return existing  # queued before, by this caller or a concurrent one
    first = rows[0]
    # Later parts are woken in turn by the part before them (ordering per chat).
    transaction.on_commit(lambda: _wake_queued(first))
    return first


def outbox_enqueue_many(
    *,
    token: str,
    method: str,
    messages: Iterable[tuple[int | str, dict[str, Any]]],
    reference: str = "",
) -> int:
    """Queue one send per ``(chat_id, params)`` for a bot (a fan-out); returns how many rows were queued.

    Rows are inserted in bulk and sent by drain tasks that claim many at once and send them concurrently,
    so a broadcast costs a few tasks instead of one per message. Order per chat and pacing hold as for
    ``outbox_enqueue``; there is no ``dedupe_key`` here.
    """
    if not token:
        raise InvalidInput("a bot token is required", field="token")
    if not _METHOD.match(method):
        raise InvalidInput(f"not a Bot API method name: {method!r}", field="method")
    fingerprint = token_fingerprint(token)
    rows = []
    for chat_id, params in messages:
        chat = _normalised_chat_id(chat_id)
        clean = _jsonable({k: v for k, v in params.items() if k != "chat_id"})
        for send_method, send_params in _planned_sends(method, clean):
            rows.append(
                OutboundMessage(
                    bot_fingerprint=fingerprint,
                    bot_token=token,
                    chat_id=chat,
                    method=send_method,
                    params=send_params,
                    reference=reference,
                )
            )
    if not rows:
        return 0
    with transaction.atomic():
        OutboundMessage.objects.bulk_create(rows, batch_size=500)
    drains = min(_drains_per_bot(), max(1, -(-len(rows) // DRAIN_BATCH)))
    transaction.on_commit(functools.partial(_wake_drains, fingerprint, drains))
    return len(rows)


def _drains_per_bot() -> int:
    """How many drains send a bot's rows at once. Paced, two keep its slots busy (one sends a batch while
    the other books the next); more would only wait for slots further ahead."""
    if settings.TELEGRAM_PACING:
        return min(2, settings.TELEGRAM_OUTBOX_DRAINERS)
    return settings.TELEGRAM_OUTBOX_DRAINERS


def _wake_drains(bot_fingerprint: str, count: int, *, countdown: float | None = None) -> None:
    from herald.telegram.tasks import outbox_drain_task

    for _ in range(count):
        try:
            outbox_drain_task.apply_async(
                (bot_fingerprint,), countdown=countdown if countdown and countdown > 0 else None
            )
        except Exception:
            logger.exception("could not enqueue an outbox drain; the sweeper will re-drive its rows")
            return


# --- Send -------------------------------------------------------------------------------------------------


# Answers to a user's button press or query are not messages of the chat: they go at once instead of behind
# the chat's queued messages (Telegram refuses an answer that comes more than a few seconds after the press:
# "query is too old"), and they hold no message back.
ANSWER_METHODS = (
    "answerCallbackQuery",
    "answerInlineQuery",
    "answerPreCheckoutQuery",
    "answerShippingQuery",
    "answerWebAppQuery",
)


def _older_open_rows() -> QuerySet[OutboundMessage]:
    return OutboundMessage.objects.filter(
        bot_fingerprint=OuterRef("bot_fingerprint"),
        chat_id=OuterRef("chat_id"),
        status__in=OPEN,
        pk__lt=OuterRef("pk"),
    ).exclude(method__in=ANSWER_METHODS)


def _next_in_its_chat() -> Q:
    """Rows the chat's order lets go now: answers, and messages with no older message of their chat open."""
    return Q(method__in=ANSWER_METHODS) | Q(~Exists(_older_open_rows()))


def _claim(message_id: int, *, may_wait: bool = True) -> OutboundMessage | None:
    now = timezone.now()
    claimed = (
        OutboundMessage.objects.filter(pk=message_id, status=Status.PENDING, next_attempt_at__lte=now)
        .filter(_next_in_its_chat())
        .update(status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now, claimed_by=new_claim_tag())
    )
    if claimed:
        try:
            return OutboundMessage.objects.get(pk=message_id)
        except DecryptionError as exc:  # the key that encrypted the token is gone: no retry can help
            message = OutboundMessage.objects.defer("bot_token").get(pk=message_id)
            _fail(message, TelegramInvalidToken(str(exc)))
            return None
    # Not claimable: already handled, waiting behind an older row of its chat (which will wake it), or
    # woken a moment early by a countdown; only the last needs anything from us.
    due = (
        OutboundMessage.objects.filter(pk=message_id, status=Status.PENDING)
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if (
        may_wait
        and due is not None
        and now < due <= now + dt.timedelta(seconds=_EARLY_WAKE_TOLERANCE_SECONDS)
    ):
        time.sleep((due - now).total_seconds())
        return _claim(message_id, may_wait=False)
    return None


def _backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter, so failed sends do not come back all at once."""
    ceiling = min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


def _release(
    message: OutboundMessage,
    *,
    delay: float,
    count_attempt: bool,
    error: TelegramError | None = None,
    chat_slot_at: dt.datetime | None = None,
    woken_by: Literal["itself", "a drain", "the running drain"] = "itself",
) -> None:
    """Back to pending, to be sent again after ``delay`` seconds: by a wake-up of its own, by a drain of its
    bot woken then, or by the drain that released it (which wakes one drain for its batch's first row due
    again, should it have ended by then)."""
    updates: dict[str, Any] = {
        "status": Status.PENDING,
        "next_attempt_at": timezone.now() + dt.timedelta(seconds=delay),
        "claimed_at": None,
        "chat_slot_at": chat_slot_at,
    }
    if not count_attempt:
        updates["attempts"] = F("attempts") - 1
    if error is not None:
        updates.update(last_error=error.description, error_code=error.code)
    OutboundMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(**updates)
    if woken_by == "itself":
        _wake(message.pk, countdown=delay)
    elif woken_by == "a drain":
        _wake_drains(message.bot_fingerprint, 1, countdown=delay)


def _finish(message: OutboundMessage, *, wake_next: bool = True, **fields: Any) -> bool:
    """Record a final outcome (sent or failed) unless the row was finished already."""
    fields.update(claimed_at=None, chat_slot_at=None)
    done = OutboundMessage.objects.filter(pk=message.pk, status__in=OPEN).update(**fields)
    for name, value in fields.items():
        setattr(message, name, value)
    if wake_next:  # a drain finds the chat's next row by itself
        _wake_next_in_chat(message)
    return bool(done)


def _wake_next_in_chat(message: OutboundMessage) -> None:
    following = (
        OutboundMessage.objects.filter(
            bot_fingerprint=message.bot_fingerprint, chat_id=message.chat_id, status=Status.PENDING
        )
        .exclude(method__in=ANSWER_METHODS)
        .order_by("pk")
        .values_list("pk", "next_attempt_at")
        .first()
    )
    if following is not None:
        pk, due = following
        _wake(pk, countdown=(due - timezone.now()).total_seconds())


def _fail(message: OutboundMessage, error: TelegramError, *, wake_next: bool = True) -> None:
    if _finish(
        message,
        wake_next=wake_next,
        status=Status.FAILED,
        last_error=error.description,
        error_code=error.code,
    ):
        outbox_message_failed.send(sender=OutboundMessage, message=message, permanent=error.permanent)


def _migrate(message: OutboundMessage, error: TelegramChatMigrated) -> None:
    """The group became a supergroup: this row and the chat's other queued rows follow it, in order."""
    old, new = message.chat_id, str(error.new_chat_id)
    if new == old:
        _fail(message, error)
        return
    with transaction.atomic():
        OutboundMessage.objects.filter(
            bot_fingerprint=message.bot_fingerprint, chat_id=old, status=Status.PENDING
        ).update(chat_id=new)
        OutboundMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
            status=Status.PENDING,
            chat_id=new,
            attempts=F("attempts") - 1,
            next_attempt_at=timezone.now(),
            claimed_at=None,
            chat_slot_at=None,
            last_error=error.description,
            error_code=error.code,
        )
    message.chat_id = new
    outbox_chat_migrated.send(sender=OutboundMessage, message=message, old_chat_id=old, new_chat_id=new)
    _wake(message.pk)


def _pace(message: OutboundMessage) -> float | None:
    """Seconds to wait for this send's slots, or ``None`` if the row was put back for a later slot."""
    if not settings.TELEGRAM_PACING or not pacing.is_paced_method(message.method):
        return 0.0
    cost = _send_cost(message)
    if message.chat_slot_at is not None:  # booked on an earlier pass
        chat_wait = max(0.0, message.chat_slot_at.timestamp() - time.time())
    else:
        chat_wait = pacing.reserve_chat(
            bot_fingerprint=message.bot_fingerprint, chat_id=message.chat_id, cost=cost
        )
    if chat_wait > MAX_INLINE_WAIT_SECONDS:
        slot = timezone.now() + dt.timedelta(seconds=chat_wait)
        _release(message, delay=chat_wait, count_attempt=False, chat_slot_at=slot)
        return None
    if chat_wait > 0:
        # The bot's slot is booked only once the chat's has come, or it would hold back the bot's other chats.
        time.sleep(chat_wait)
    wait = pacing.reserve_bot(bot_fingerprint=message.bot_fingerprint, cost=cost)
    if wait > MAX_INLINE_WAIT_SECONDS:
        # The bot is busy for a while (a fan-out, a retry-after): a drain takes the row then, with the
        # bot's other rows, in one block of slots. Waking the row alone would book another slot, likely
        # too far off again, and so on: each pass would waste a slot of the bot's.
        _release(message, delay=wait, count_attempt=False, woken_by="a drain")
        return None
    return wait


def outbox_send(*, message_id: int) -> OutboundMessage | None:
    """Send one outbox row if it is due and first in its chat; ``None`` if there was nothing to do.

    Retry-after puts the row back for later (not counted as an attempt); a migrated chat is followed;
    permanent errors fail the row with Telegram's description; transient ones back off and retry up to
    ``TELEGRAM_OUTBOX_MAX_ATTEMPTS``.
    """
    message = _claim(message_id)
    if message is None:
        return None
    try:
        wait = _pace(message)
    except RateLimiterUnavailable:
        logger.warning("rate limiter unavailable; outbox message %s will be retried", message.pk)
        _release(message, delay=_backoff_seconds(message.attempts), count_attempt=False)
        return message
    if wait is None:
        return message
    if wait > 0:
        time.sleep(wait)
    try:
        result = client.call(
            message.bot_token, message.method, chat_id=_api_chat_id(message.chat_id), **message.params
        )
    except TelegramError as exc:
        _record_outcome(message, exc)
    else:
        _record_outcome(message, result)
    return message


def _record_outcome(message: OutboundMessage, outcome: Any, *, in_drain: bool = False) -> None:
    """Store what Telegram answered (a result, or a typed error) and schedule what comes next."""
    if isinstance(outcome, TelegramRetryAfter):
        delay = outcome.seconds + random.uniform(0, 0.25)  # noqa: S311 - jitter, not security
        _release(
            message,
            delay=delay,
            count_attempt=False,
            error=outcome,
            woken_by="the running drain" if in_drain else "itself",
        )
        if not isinstance(outcome, TelegramHeldBack):  # Telegram's own 429: every process waits it out
            with contextlib.suppress(RateLimiterUnavailable):
                pacing.hold_bot(bot_fingerprint=message.bot_fingerprint, seconds=outcome.seconds)
    elif isinstance(outcome, TelegramChatMigrated):
        _migrate(message, outcome)
    elif isinstance(outcome, TelegramError):
        if outcome.permanent or message.attempts >= settings.TELEGRAM_OUTBOX_MAX_ATTEMPTS:
            _fail(message, outcome, wake_next=not in_drain)
        else:
            _release(message, delay=_backoff_seconds(message.attempts), count_attempt=True, error=outcome)
    elif _finish(
        message,
        wake_next=not in_drain,
        status=Status.SENT,
        sent_at=timezone.now(),
        result=outcome,
        telegram_message_id=_message_id_of(outcome),
        error_code="",
    ):
        outbox_message_sent.send(sender=OutboundMessage, message=message)


def _message_id_of(result: Any) -> int | None:
    if isinstance(result, list) and result and isinstance(result[0], dict):
        result = result[0]  # a media group: its first message
    if isinstance(result, dict) and isinstance(result.get("message_id"), int):
        return int(result["message_id"])
    return None


def _due_heads(bot_fingerprint: str, now: dt.datetime) -> QuerySet[OutboundMessage]:
    """A bot's rows that may be sent now: pending, due, and first in their chat; oldest first."""
    return (
        OutboundMessage.objects.filter(
            bot_fingerprint=bot_fingerprint, status=Status.PENDING, next_attempt_at__lte=now
        )
        .filter(_next_in_its_chat())
        .order_by("pk")
    )


def _claim_batch(bot_fingerprint: str, limit: int) -> tuple[int, list[OutboundMessage]]:
    """Claim up to ``limit`` due rows of a bot, each first in its chat: (rows found, rows claimed here)."""
    now = timezone.now()
    due_heads = _due_heads(bot_fingerprint, now)
    candidates = list(due_heads.values_list("pk", flat=True)[:limit])
    if not candidates:
        return 0, []
    batch = new_claim_tag()
    # Another drain may claim some of the same rows first: the status condition gives each row to one.
    due_heads.filter(pk__in=candidates).update(
        status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now, claimed_by=batch
    )
    claimed = OutboundMessage.objects.filter(claimed_by=batch, status=Status.SENDING).order_by("pk")
    try:
        return len(candidates), list(claimed)
    except DecryptionError:
        readable = []
        for pk in claimed.values_list("pk", flat=True):
            try:
                readable.append(OutboundMessage.objects.get(pk=pk))
            except DecryptionError as exc:
                _fail(OutboundMessage.objects.defer("bot_token").get(pk=pk), TelegramInvalidToken(str(exc)))
        return len(candidates), readable


def _send_cost(message: OutboundMessage) -> int:
    """Slots a send takes: a media group counts each of its messages, as Telegram does."""
    media = message.params.get("media")
    return len(media) if message.method == "sendMediaGroup" and isinstance(media, list) and media else 1


def _pace_batch(messages: list[OutboundMessage]) -> list[tuple[OutboundMessage, float, float | None]]:
    """Each claimed row that may go within the batch's window, with when (epoch seconds) and until when it
    may go; the others go back.

    The chats are booked in one go, then the bot's slots for the rows whose chat is free soon, as one
    block: row ``n`` goes at the block's start plus ``n`` intervals (or when its chat is free, if later).
    Booking a block instead of a slot per row keeps the bot's bucket to one write per batch. A row goes
    within half an interval of its slot or not at all: a process that comes to it later (it was busy) and
    sent it anyway would crowd it against the sends booked after it, and Telegram counts sends as they
    arrive. Booked at ``TELEGRAM_PACING_HEADROOM`` of the limit, any second then holds fewer sends than
    Telegram allows.
    """
    planned: list[tuple[OutboundMessage, float, float | None]] = [
        (message, 0.0, None) for message in messages if not pacing.is_paced_method(message.method)
    ]
    paced = [message for message in messages if pacing.is_paced_method(message.method)]
    if not paced:
        return planned
    fingerprint = paced[0].bot_fingerprint
    unbooked = [message for message in paced if message.chat_slot_at is None]
    booked = pacing.reserve_chats(
        bot_fingerprint=fingerprint,
        chats=[(message.chat_id, _send_cost(message)) for message in unbooked],
    )
    chat_waits = dict(zip((message.pk for message in unbooked), booked, strict=True))
    now = time.time()
    ready: list[tuple[float, OutboundMessage]] = []
    later: list[tuple[float, OutboundMessage]] = []
    for message in paced:
        wait = chat_waits.get(message.pk)
        if wait is None and message.chat_slot_at is not None:  # booked on an earlier pass
            wait = max(0.0, message.chat_slot_at.timestamp() - now)
        (later if (wait or 0.0) > MAX_INLINE_WAIT_SECONDS else ready).append((wait or 0.0, message))
    if ready:
        ready.sort(key=lambda item: item[0])  # stable: id order among chats free at once
        block_wait = pacing.reserve_bot(
            bot_fingerprint=fingerprint, cost=sum(_send_cost(message) for _, message in ready)
        )
        block_at = time.time() + block_wait  # a moment after the bucket's own clock: never early
        interval = 1.0 / pacing.bot_rate_per_second()
        slots = 0
        for chat_wait, message in ready:
            at = max(now + chat_wait, block_at + slots * interval)
            planned.append((message, at, at + interval / 2))
            slots += _send_cost(message)
    for wait, message in later:  # its chat is busy for a while: it comes back for the slot booked for it
        slot = timezone.now() + dt.timedelta(seconds=wait)
        _release(message, delay=wait, count_attempt=False, chat_slot_at=slot)
    return planned


def _finish_sent(sent: list[tuple[OutboundMessage, Any]]) -> list[OutboundMessage]:
    """Record a batch's successes in one short transaction; the rows it finished.

    A row still carries its drain's claim (``claimed_by``, status sending) unless the sweeper took it
    back; only those are finished. One UPDATE statement, prepared once and run for each row: built as one
    statement with a CASE per column, Django spent more CPU composing it than the sends themselves cost.
    """
    if not sent:
        return []
    now = timezone.now()
    meta = OutboundMessage._meta
    sent_at = meta.get_field("sent_at").get_db_prep_value(now, connection)
    result_field = meta.get_field("result")
    message_ids = {message.pk: _message_id_of(result) for message, result in sent}
    rows = [
        (
            Status.SENT,
            sent_at,
            result_field.get_db_prep_value(result, connection),
            message_ids[message.pk],
            message.pk,
            Status.SENDING,
            message.claimed_by,
        )
        for message, result in sent
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(_finish_sent_statement(connection.vendor), rows)
    pks = [message.pk for message, _ in sent]
    claims = {message.claimed_by for message, _ in sent}
    finished = set(
        OutboundMessage.objects.filter(pk__in=pks, status=Status.SENT, claimed_by__in=claims).values_list(
            "pk", flat=True
        )
    )
    done = []
    for message, result in sent:
        if message.pk in finished:
            message.status, message.sent_at, message.result = Status.SENT, now, result
            message.telegram_message_id, message.error_code = message_ids[message.pk], ""
            message.claimed_at = message.chat_slot_at = None
            done.append(message)
    return done


@functools.cache
def _finish_sent_statement(vendor: str) -> str:
    """``_finish_sent``'s UPDATE of one row, quoted for the database ``vendor`` (the cache key)."""
    q = connection.ops.quote_name
    column = {field.name: q(field.column) for field in OutboundMessage._meta.concrete_fields}
    return (
        f"UPDATE {q(OutboundMessage._meta.db_table)} SET {column['status']} = %s, "  # noqa: S608 - names from the model
        f"{column['sent_at']} = %s, {column['result']} = %s, {column['telegram_message_id']} = %s, "
        f"{column['error_code']} = '', {column['claimed_at']} = NULL, {column['chat_slot_at']} = NULL "
        f"WHERE {column['id']} = %s AND {column['status']} = %s AND {column['claimed_by']} = %s"
    )


def outbox_send_batch(*, bot_fingerprint: str, limit: int = DRAIN_BATCH) -> int:
    """Claim a batch of a bot's due rows and send them concurrently; returns how many due rows were found
    (0 means the bot has nothing due). Outcomes are handled as in ``outbox_send``.

    Paced, a batch is what the bot may send in ``BATCH_SECONDS``, booked as one block of its slots.
    """
    paced = settings.TELEGRAM_PACING
    if paced:
        limit = max(1, min(limit, int(pacing.bot_rate_per_second() * BATCH_SECONDS)))
    found, messages = _claim_batch(bot_fingerprint, limit)
    if not messages:
        return found
    try:
        planned = _pace_batch(messages) if paced else [(message, 0.0, None) for message in messages]
    except RateLimiterUnavailable:
        logger.warning("rate limiter unavailable; %s outbox messages will be retried", len(messages))
        for message in messages:
            _release(message, delay=_backoff_seconds(message.attempts), count_attempt=False)
        return found
    calls = [
        client.Call(
            message.bot_token,
            message.method,
            {**message.params, "chat_id": _api_chat_id(message.chat_id)},
            at=at,
            not_after=not_after,
        )
        for message, at, not_after in planned
    ]
    outcomes = client.call_many(calls)
    answered = list(zip((message for message, _, _ in planned), outcomes, strict=True))
    retry_after = [outcome.seconds for _, outcome in answered if isinstance(outcome, TelegramRetryAfter)]
    if retry_after:  # those rows come back by this drain, or by one woken when the first is due again
        _wake_drains(bot_fingerprint, 1, countdown=min(retry_after) + 0.25)
    for message in _finish_sent(
        [(m, outcome) for m, outcome in answered if not isinstance(outcome, TelegramError)]
    ):
        outbox_message_sent.send(sender=OutboundMessage, message=message)
    for message, outcome in answered:
        if isinstance(outcome, TelegramError):
            _record_outcome(message, outcome, in_drain=True)
    return found


def outbox_drain(*, bot_fingerprint: str, time_budget: float = 30.0) -> int:
    """Send a bot's due rows batch after batch until none is left; returns how many were claimed.

    A bot has at most ``_drains_per_bot()`` drains at a time (leases in the database): a wake-up that finds
    them all at work ends at once instead of holding a worker thread for slots further ahead; the drains at
    work take its rows in turn. A drain that runs out of time hands over to a fresh task, so one bot
    cannot hold a worker for long.
    """
    deadline = time.monotonic() + time_budget
    handled = 0
    lease_name = f"outbox-drain:{bot_fingerprint}"
    while True:
        held = lease_take(lease_name, places=_drains_per_bot(), seconds=_DRAIN_LEASE_SECONDS)
        if held is None:
            return handled
        try:
            while True:
                found = outbox_send_batch(bot_fingerprint=bot_fingerprint, limit=DRAIN_BATCH)
                handled += found
                if not found or time.monotonic() > deadline:
                    break
                lease_renew(held, seconds=_DRAIN_LEASE_SECONDS)
        finally:
            lease_give_back(held)
        if found:  # out of time
            _wake_drains(bot_fingerprint, 1)
            return handled
        # Nothing was due. A row that fell due meanwhile may have had its wake-up turned away while this
        # drain held its place: look once more now that the place is free.
        if not _due_heads(bot_fingerprint, timezone.now()).exists():
            return handled


# --- Operations -------------------------------------------------------------------------------------------


def outbox_retry(*, message_ids: Iterable[int]) -> int:
    """Send failed rows again (an admin's "retry"); returns how many were queued."""
    ids = list(
        OutboundMessage.objects.filter(pk__in=list(message_ids), status=Status.FAILED).values_list(
            "pk", flat=True
        )
    )
    requeued = OutboundMessage.objects.filter(pk__in=ids, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_at=None, chat_slot_at=None
    )
    for pk in ids:
        transaction.on_commit(functools.partial(_wake, pk))
    return requeued


def outbox_wake_due() -> int:
    """Start a drain for every bot with pending rows; returns how many bots. For a worker that starts: the
    rows a dead worker was sending and the wake-ups it held went with it, and they would otherwise wait
    for the sweeper. A row that still has a live wake-up is claimed once all the same."""
    outbox_reclaim_orphans()
    now = timezone.now()
    bots = list(
        OutboundMessage.objects.filter(status=Status.PENDING)
        .filter(_next_in_its_chat())
        .values("bot_fingerprint")
        .annotate(next_due=Min("next_attempt_at"))
        .order_by("bot_fingerprint")[:_SWEEP_BATCH]
    )
    for bot in bots:  # at once, or when its first row falls due (a retry-after, a chat's next slot)
        _wake_drains(bot["bot_fingerprint"], 1, countdown=(bot["next_due"] - now).total_seconds())
    return len(bots)


def _take_back(stuck: QuerySet[OutboundMessage]) -> int:
    """Rows whose worker stopped while sending them: back to pending and woken (or failed after the last
    attempt); returns how many were woken. Telegram may have received a row before its worker died, so
    this can send it a second time; losing it would be worse."""
    woken = 0
    for message in stuck.defer("bot_token").order_by("pk")[:_SWEEP_BATCH]:
        same_claim = OutboundMessage.objects.filter(
            pk=message.pk, status=Status.SENDING, claimed_at=message.claimed_at, claimed_by=message.claimed_by
        )
        description = "the worker sending this message stopped before recording the outcome"
        if message.attempts >= settings.TELEGRAM_OUTBOX_MAX_ATTEMPTS:
            if same_claim.update(
                status=Status.FAILED, last_error=description, error_code="worker_lost", claimed_at=None
            ):
                message.status, message.last_error, message.error_code = (
                    Status.FAILED,
                    description,
                    "worker_lost",
                )
                outbox_message_failed.send(sender=OutboundMessage, message=message, permanent=False)
                _wake_next_in_chat(message)
        elif same_claim.update(
            status=Status.PENDING,
            next_attempt_at=timezone.now(),
            claimed_at=None,
            last_error=description,
            error_code="worker_lost",
        ):
            _wake(message.pk)
            woken += 1
    return woken


def outbox_reclaim_orphans() -> int:
    """Take back at once the rows claimed by worker processes of this host that are gone (killed, crashed),
    instead of waiting ``TELEGRAM_OUTBOX_STALE_SECONDS``; returns how many rows were woken."""
    claimants = (
        OutboundMessage.objects.filter(status=Status.SENDING)
        .exclude(claimed_by="")
        .values_list("claimed_by", flat=True)
        .distinct()
    )
    gone = [tag for tag in claimants[:_SWEEP_BATCH] if claimant_is_gone(tag)]
    if not gone:
        return 0
    logger.warning("taking back outbox rows of %s stopped worker claim(s)", len(gone))
    return _take_back(OutboundMessage.objects.filter(status=Status.SENDING, claimed_by__in=gone))


def outbox_sweep(*, now: dt.datetime | None = None) -> int:
    """Re-drive rows whose wake-up went missing; returns how many were woken.

    A row in ``sending`` whose worker process is gone (``outbox_reclaim_orphans``), or stuck there past
    ``TELEGRAM_OUTBOX_STALE_SECONDS`` (a worker on another host), lost its worker and is taken back. A
    pending row due longer ago than that and first in its chat lost its wake-up: a drain of its bot is
    started.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.TELEGRAM_OUTBOX_STALE_SECONDS)
    woken = outbox_reclaim_orphans()
    stale = OutboundMessage.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff)
    woken += _take_back(stale)
    # A lost wake-up, or a drain that gave up: a drain per bot sends its due rows, however they were queued.
    overdue = (
        OutboundMessage.objects.filter(status=Status.PENDING, next_attempt_at__lt=cutoff)
        .filter(_next_in_its_chat())
        .values("bot_fingerprint")
        .annotate(rows=Count("pk"))
        .order_by("bot_fingerprint")
    )
    for bot in overdue[:_SWEEP_BATCH]:
        _wake_drains(bot["bot_fingerprint"], 1)
        woken += bot["rows"]
    from herald.core.ratelimit import purge_idle_buckets

    purge_idle_buckets()
    return woken
