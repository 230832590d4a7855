"""The worker's side of an update: pick the flow, run the engine, turn its actions into outbox rows.

Updates of one chat are processed in ``update_id`` order. The engine runs outside any transaction (an
HTTP step may take seconds); its result is written in one short transaction that also claims the
update, so a task that runs twice, or two workers racing on one chat, change nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from herald.bots.flows import (
    AnswerCallback,
    Flow,
    FlowFinished,
    FlowValidationError,
    Incoming,
    RelayToOperator,
    SaveAnswer,
    SendText,
    StartHandoff,
    Turn,
    handle,
    match_command,
    parse_flow,
    start,
)
from herald.bots.flows import (
    Conversation as EngineConversation,
)
from herald.bots.handlers import UpdateHandler, update_handler_for
from herald.bots.models import (
    BotFlow,
    BotMessage,
    BotUser,
    Conversation,
    FlowAnswer,
    FlowRun,
    InboundUpdate,
    MessageDirection,
    TelegramBot,
    UpdateStatus,
)
from herald.bots.replies import operator_reply_target, reply_params
from herald.telegram.services import outbox_enqueue, outbox_wakes_together

logger = logging.getLogger(__name__)

MAX_CONFLICT_RETRIES = 5


@dataclass(frozen=True)
class _Decision:
    flow: BotFlow | None
    turn: Turn | None
    new_run: bool


class _Batch:
    """What the updates of one wake-up share, read once for all of them: the updates themselves and the
    older ones still waiting in their chats (which go first), their bots and active flows, their chats'
    conversations and the pks of their users.

    A row read here may be changed by another worker before this one writes: an update it processed
    first is not claimed again (the claim's status check), and a conversation it moved on fails the
    write's version check; the copy is then dropped and the next attempt reads it afresh.
    """

    def __init__(self, update_pks: list[int]) -> None:
        self.updates: dict[int, InboundUpdate] = {}
        self.waiting: dict[tuple[Any, int | None], list[InboundUpdate]] = {}
        self._flows: dict[Any, list[BotFlow]] = {}
        self._conversations: dict[tuple[Any, int, int], Conversation] = {}
        self._user_pks: dict[tuple[Any, int], int] = {}
        asked = InboundUpdate.objects.filter(pk__in=update_pks, status=UpdateStatus.RECEIVED).values_list(
            "bot_id", "chat_id", "update_id"
        )
        newest: dict[Any, int] = {}
        chats: set[int | None] = set()
        for bot_id, chat_id, update_id in asked:
            newest[bot_id] = max(update_id, newest.get(bot_id, update_id))
            chats.add(chat_id)
        if not newest:
            return
        # every row read here is processed by this wake-up: the updates asked for, and the older ones of
        # their chats (update ids count per bot)
        older = Q()
        for bot_id, update_id in newest.items():
            older |= Q(bot_id=bot_id, update_id__lte=update_id)
        bots = {bot.pk: bot for bot in TelegramBot.objects.filter(pk__in=newest)}
        for update in (
            InboundUpdate.objects.filter(older, status=UpdateStatus.RECEIVED)
            .filter(Q(chat_id__in=chats - {None}) | Q(pk__in=update_pks))
            .order_by("update_id")
        ):
            update.bot = bots[update.bot_id]
            self.updates[update.pk] = update
            self.waiting.setdefault((update.bot_id, update.chat_id), []).append(update)
        private = {chat for chat in chats if chat is not None and chat > 0}
        if not private:
            return
        for conversation in Conversation.objects.select_related("run").filter(
            bot_id__in=bots, chat_id__in=private
        ):
            self._conversations[(conversation.bot_id, conversation.chat_id, conversation.user_id)] = (
                conversation
            )
        for bot_id, chat_id, pk in BotUser.objects.filter(bot_id__in=bots, chat_id__in=private).values_list(
            "bot_id", "chat_id", "pk"
        ):
            self._user_pks[(bot_id, chat_id)] = pk

    def flows(self, bot: TelegramBot) -> list[BotFlow]:
        if bot.pk not in self._flows:
            self._flows[bot.pk] = list(BotFlow.objects.filter(bot=bot, is_active=True))
        return self._flows[bot.pk]

    def conversation(self, bot: TelegramBot, chat_id: int, user_id: int) -> Conversation:
        key = (bot.pk, chat_id, user_id)
        if key not in self._conversations:
            self._conversations[key] = Conversation.objects.get_or_create(
                bot=bot, chat_id=chat_id, user_id=user_id
            )[0]
        return self._conversations[key]

    def forget_conversation(self, conversation: Conversation) -> None:
        self._conversations.pop((conversation.bot_id, conversation.chat_id, conversation.user_id), None)

    def user_pk(self, bot: TelegramBot, chat_id: int) -> int:
        key = (bot.pk, chat_id)
        if key not in self._user_pks:
            self._user_pks[key] = BotUser.objects.values_list("pk", flat=True).get(bot=bot, chat_id=chat_id)
        return self._user_pks[key]


def update_process(*, update_pk: int) -> None:
    """Process this update, after any older unprocessed update of the same chat; a failure is raised."""
    _process_in_order([update_pk], keep_going=False)


def updates_process(*, update_pks: list[int]) -> None:
    """Process a wake-up's updates in turn, each after any older unprocessed update of its chat; one that
    fails stays received for the sweeper to retry."""
    _process_in_order(update_pks, keep_going=True)


def _process_in_order(update_pks: list[int], *, keep_going: bool) -> None:
    """Rows are read once for the whole wake-up (``_Batch``), not once per update: most of the worker's
    time per update went to reading them."""
    batch = _Batch(update_pks)
    handled: set[int] = set()
    # one wake-up for a bot's replies to the whole batch (drains), not a task per reply
    with outbox_wakes_together():
        for update_pk in update_pks:
            update = batch.updates.get(update_pk)
            if update is None or update_pk in handled:
                continue  # processed meanwhile, gone, or processed here before a later one of its chat
            chat = batch.waiting[(update.bot_id, update.chat_id)]
            try:
                for pending in chat:
                    if pending.update_id > update.update_id:
                        break
                    if pending.pk not in handled:
                        _process_one(pending, batch)
                        handled.add(pending.pk)
            except Exception:
                if not keep_going:
                    raise
                # left waiting: a later update of its chat tries it again first, and stops if it fails again
                logger.exception("update %s failed; the sweeper will retry it", update_pk)


def updates_sweep(*, older_than_seconds: int = 60) -> int:
    """Re-enqueue updates still unprocessed after ``older_than_seconds`` (a lost task, a crashed worker)."""
    from herald.bots.tasks import bot_updates_process_task
    from herald.bots.wakeups import MAX_BATCH

    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    stuck = list(
        InboundUpdate.objects.filter(status=UpdateStatus.RECEIVED, received_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
    for first in range(0, len(stuck), MAX_BATCH):
        bot_updates_process_task.delay(stuck[first : first + MAX_BATCH])
    return len(stuck)


def _process_one(update: InboundUpdate, batch: _Batch) -> None:
    for attempt in range(MAX_CONFLICT_RETRIES):
        current = (
            update
            if attempt == 0
            else InboundUpdate.objects.select_related("bot").filter(pk=update.pk).first()
        )
        if current is None or current.status != UpdateStatus.RECEIVED:
            return
        handler = update_handler_for(current.bot.kind)
        if handler is not None:
            _run_kind_handler(current, handler)
            return
        if _try_process(current, batch):
            return
    logger.warning("update %s: gave up after %s conflicting attempts", update.pk, MAX_CONFLICT_RETRIES)


def _run_kind_handler(update: InboundUpdate, handler: UpdateHandler) -> None:
    """A bot kind with its own handler: claim the update and run the handler in one transaction."""
    try:
        with transaction.atomic():
            claimed = InboundUpdate.objects.filter(pk=update.pk, status=UpdateStatus.RECEIVED).update(
                status=UpdateStatus.PROCESSED, processed_at=timezone.now()
            )
            if claimed:
                handler(update)
    except DatabaseError:
        raise  # left received: the task or the sweeper tries again
    except Exception as exc:
        # a bug or bad data would fail the same way on every retry: record it instead of looping
        logger.exception(
            "update %s of bot %s: the %s handler failed", update.pk, update.bot_id, update.bot.kind
        )
        InboundUpdate.objects.filter(pk=update.pk, status=UpdateStatus.RECEIVED).update(
            status=UpdateStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            processed_at=timezone.now(),
        )


def _incoming(update: InboundUpdate) -> tuple[Incoming, dict[str, Any]]:
    payload = update.payload
    if update.kind == "callback_query":
        query = payload["callback_query"]
        return Incoming(
            callback_data=query.get("data"), callback_query_id=query.get("id"), user=query.get("from") or {}
        ), query
    message = payload.get("message") or {}
    contact = message.get("contact") or {}
    return (
        Incoming(
            text=message.get("text"),
            contact_phone=contact.get("phone_number"),
            user=message.get("from") or {},
        ),
        message,
    )


def _try_process(update: InboundUpdate, batch: _Batch) -> bool:
    """One attempt; False when another worker changed the conversation meanwhile (then try again)."""
    bot = update.bot
    incoming, body = _incoming(update)
    sender = incoming.user
    chat_id = update.chat_id
    if chat_id is None or not sender:
        _mark(update, UpdateStatus.IGNORED)
        return True
    if chat_id < 0:
        # a group: the only thing a flows bot does there is relay an operator's reply back to a user
        return _relay_operator_reply(update, body)

    conversation = batch.conversation(bot, chat_id, sender["id"])
    decision = _decide(bot, conversation, incoming, batch.flows(bot))

    with transaction.atomic():
        claimed = InboundUpdate.objects.filter(pk=update.pk, status=UpdateStatus.RECEIVED).update(
            status=UpdateStatus.PROCESSED, processed_at=timezone.now()
        )
        if not claimed:
            # someone else processed it, and so moved the conversation on: read it afresh next time
            batch.forget_conversation(conversation)
            return True
        if not _apply(update, bot, conversation, decision, batch):
            # a worker that raced us on this chat moved the conversation on: none of this is written
            transaction.set_rollback(True)
            batch.forget_conversation(conversation)
            return False
    return True


# Parsed flows by (pk, updated_at): validating a flow costs more than the rest of a simple reply, and a
# saved flow changes only with a new updated_at. The parsed models are frozen, so sharing them is safe.
_parsed_flows: dict[tuple[int, dt.datetime], Flow | None] = {}
PARSED_FLOWS_KEPT = 1000


def _parsed(flow: BotFlow) -> Flow | None:
    key = (flow.pk, flow.updated_at)
    if key in _parsed_flows:
        return _parsed_flows[key]
    try:
        parsed: Flow | None = parse_flow(flow.flow_data)
    except FlowValidationError:
        # saved flows are validated, so this is a flow edited around the API (e.g. raw SQL)
        logger.exception("flow %s of bot %s does not validate; skipping it", flow.pk, flow.bot_id)
        parsed = None
    if len(_parsed_flows) >= PARSED_FLOWS_KEPT:
        _parsed_flows.clear()
    _parsed_flows[key] = parsed
    return parsed


def _decide(
    bot: TelegramBot, conversation: Conversation, incoming: Incoming, flows: list[BotFlow]
) -> _Decision:
    from herald.bots.http_step import http_port

    if incoming.text and incoming.text.startswith("/") and not incoming.text.startswith("/cancel"):
        for flow in flows:
            if flow.trigger_command and match_command(
                incoming.text, flow.trigger_command, bot_username=bot.username
            ):
                parsed = _parsed(flow)
                if parsed is not None:
                    return _Decision(flow, start(parsed, user=incoming.user, http=http_port), new_run=True)
    state = EngineConversation.from_json(conversation.state)
    current = next((flow for flow in flows if flow.pk == conversation.flow_id), None)
    if state.active and current is not None:
        parsed = _parsed(current)
        if parsed is not None:
            return _Decision(current, handle(parsed, state, incoming, http=http_port), new_run=False)
    default = next((flow for flow in flows if flow.is_default), None)
    if default is not None and (parsed := _parsed(default)) is not None:
        if incoming.callback_query_id is not None:
            turn = handle(parsed, EngineConversation(variables={}), incoming, http=http_port)
            return _Decision(default, turn, new_run=True)
        return _Decision(default, start(parsed, user=incoming.user, http=http_port), new_run=True)
    if incoming.callback_query_id is not None:
        # a button of a flow that no longer exists: answer it so the client stops its spinner
        return _Decision(None, Turn([AnswerCallback(incoming.callback_query_id)], state), new_run=False)
    return _Decision(None, None, new_run=False)


def _apply(
    update: InboundUpdate, bot: TelegramBot, conversation: Conversation, decision: _Decision, batch: _Batch
) -> bool:
    """Write the turn's effects and the conversation's new state; False (write nothing) if the conversation
    is no longer the version the turn was decided on."""
    if decision.turn is None:
        return _save_conversation(conversation)
    user_pk = batch.user_pk(bot, conversation.chat_id)
    actions = decision.turn.actions
    run = conversation.run
    if decision.new_run and decision.flow is not None:
        if run is not None and run.finished_at is None:
            FlowRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), completed=False)
        # a flow that ends in the turn it starts (a simple response) is written finished in one statement
        ends = next((action for action in actions if isinstance(action, FlowFinished)), None)
        run = FlowRun.objects.create(
            bot=bot,
            flow=decision.flow,
            user_id=user_pk,
            finished_at=None if ends is None else timezone.now(),
            completed=ends is not None and ends.completed,
        )
    token = bot.token
    user: BotUser | None = None  # read only for an operator's header
    for index, action in enumerate(actions):
        dedupe = f"bots:{update.pk}:{index}"
        if isinstance(action, SendText):
            outbox_enqueue(
                token=token,
                chat_id=conversation.chat_id,
                method="sendMessage",
                params=reply_params(action),
                dedupe_key=dedupe,
                reference=f"bots.reply:{bot.pk}",
            )
            BotMessage.objects.create(
                bot=bot,
                user_id=user_pk,
                message_type="text",
                direction=MessageDirection.OUTGOING,
                text=action.text,
                flow=decision.flow,
            )
        elif isinstance(action, AnswerCallback):
            outbox_enqueue(
                token=token,
                chat_id=conversation.chat_id,
                method="answerCallbackQuery",
                params={
                    "callback_query_id": action.callback_query_id,
                    **({"text": action.text} if action.text else {}),
                },
                dedupe_key=dedupe,
                reference=f"bots.callback:{bot.pk}",
            )
        elif isinstance(action, SaveAnswer) and run is not None and decision.flow is not None:
            FlowAnswer.objects.create(
                run=run,
                flow=decision.flow,
                user_id=user_pk,
                step_id=action.step_id,
                key=action.key,
                value=action.value,
            )
            if action.key == "phone" and isinstance(action.value, str):
                BotUser.objects.filter(pk=user_pk).update(phone=action.value[:32])
        elif isinstance(action, StartHandoff | RelayToOperator):
            user = user or BotUser.objects.get(pk=user_pk)
            outbox_enqueue(
                token=token,
                chat_id=action.operator_chat_id,
                method="sendMessage",
                params={
                    "text": _operator_header(user, "started a conversation")
                    if isinstance(action, StartHandoff)
                    else f"{_operator_header(user, 'writes')}\n\n{action.text}"
                },
                dedupe_key=dedupe,
                reference=f"bots.handoff:{bot.pk}",
            )
        elif isinstance(action, FlowFinished) and run is not None and run.finished_at is None:
            FlowRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
                finished_at=timezone.now(), completed=action.completed
            )
    finished = not decision.turn.conversation.active
    return _save_conversation(
        conversation,
        flow=None if finished else decision.flow,
        run=None if finished else run,
        state=decision.turn.conversation.to_json(),
    )


def _save_conversation(conversation: Conversation, **changes: Any) -> bool:
    """Bump the conversation's version with ``changes`` if it is still the version read; on success the
    in-memory copy follows (a later update of the chat in the same wake-up starts from it)."""
    changes["version"] = conversation.version + 1
    if "state" in changes:
        changes["updated_at"] = timezone.now()
    if not Conversation.objects.filter(pk=conversation.pk, version=conversation.version).update(**changes):
        return False
    for name, value in changes.items():
        setattr(conversation, name, value)
    return True


def _operator_header(user: BotUser, verb: str) -> str:
    name = user.full_name or user.username or str(user.chat_id)
    handle_part = f" @{user.username}" if user.username else ""
    # "#u<chat id>" lets the operator answer by replying to this message (see operator_reply_target)
    return f"#u{user.chat_id} {name}{handle_part} {verb}. Reply to this message to answer."


def _relay_operator_reply(update: InboundUpdate, message: Mapping[str, Any]) -> bool:
    target = operator_reply_target(message)
    text = message.get("text")
    with transaction.atomic():
        claimed = InboundUpdate.objects.filter(pk=update.pk, status=UpdateStatus.RECEIVED).update(
            status=UpdateStatus.PROCESSED if target else UpdateStatus.IGNORED, processed_at=timezone.now()
        )
        if not claimed or target is None or not text:
            return True
        user = BotUser.objects.filter(bot=update.bot, chat_id=target).first()
        if user is None:
            return True
        outbox_enqueue(
            token=update.bot.token,
            chat_id=target,
            method="sendMessage",
            params={"text": text},
            dedupe_key=f"bots:{update.pk}:relay",
            reference=f"bots.handoff:{update.bot_id}",
        )
        BotMessage.objects.create(
            bot=update.bot, user=user, message_type="text", direction=MessageDirection.OUTGOING, text=text
        )
    return True


def _mark(update: InboundUpdate, status: str) -> None:
    InboundUpdate.objects.filter(pk=update.pk, status=UpdateStatus.RECEIVED).update(
        status=status, processed_at=timezone.now()
    )
