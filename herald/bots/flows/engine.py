"""Runs a flow: given where a user's conversation stands and what they just did, decide what happens.

The engine has no I/O of its own. It returns actions (send this text with these buttons, save this
answer, relay this to the operator) and the new conversation state; the caller performs them. The one
outside call a flow can make, an HTTP step, goes through a port the caller passes in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from herald.bots.flows.schema import (
    ButtonSpec,
    ConditionRule,
    ConditionStep,
    Flow,
    HandoffStep,
    HttpStep,
    MenuStep,
    MessageStep,
    QuestionStep,
)

MAX_STEPS_PER_TURN = 50
CANCEL_COMMAND = "/cancel"


# --- What comes in --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """One thing the user did: wrote ``text``, pressed a button (``callback_data``) or shared a contact."""

    text: str | None = None
    callback_data: str | None = None
    callback_query_id: str | None = None
    contact_phone: str | None = None
    user: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Conversation:
    """Where a user stands in a flow. Plain data, stored as JSON between updates."""

    step: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    handoff_chat_id: int | str | None = None

    @property
    def active(self) -> bool:
        return self.step is not None or self.handoff_chat_id is not None

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "variables": self.variables, "handoff_chat_id": self.handoff_chat_id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Conversation:
        data = data or {}
        return cls(
            step=data.get("step"),
            variables=dict(data.get("variables") or {}),
            handoff_chat_id=data.get("handoff_chat_id"),
        )


# --- What goes out --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None
    request_contact: bool = False


@dataclass(frozen=True)
class SendText:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    keyboard: str = "inline"  # "inline" buttons under the message, or a "reply" keyboard
    remove_keyboard: bool = False


@dataclass(frozen=True)
class AnswerCallback:
    """Telegram wants every button press answered, or the client shows a spinner."""

    callback_query_id: str
    text: str | None = None


@dataclass(frozen=True)
class SaveAnswer:
    step_id: str
    key: str
    value: Any


@dataclass(frozen=True)
class StartHandoff:
    operator_chat_id: int | str
    variables: Mapping[str, Any]


@dataclass(frozen=True)
class RelayToOperator:
    operator_chat_id: int | str
    text: str


@dataclass(frozen=True)
class FlowFinished:
    completed: bool  # False when the user cancelled or the flow broke


Action = SendText | AnswerCallback | SaveAnswer | StartHandoff | RelayToOperator | FlowFinished


@dataclass
class Turn:
    actions: list[Action]
    conversation: Conversation


class HttpPort(Protocol):
    """Makes an HTTP step's request (the caller's SSRF-safe client) and returns the decoded JSON reply."""

    def __call__(
        self, *, method: str, url: str, headers: Mapping[str, str], json: Any | None
    ) -> Any: ...  # pragma: no cover - a protocol


class HttpStepFailed(Exception):
    """Raised by an ``HttpPort`` when the call failed; the flow follows the step's ``on_error``."""


# --- Texts a flow author did not write ------------------------------------------------------------

DEFAULT_ERRORS = {
    "text": "Please answer with a text message.",
    "number": "Please send a number, for example 42.",
    "email": "That does not look like an email address. Please try again.",
    "phone": "Please share your phone number with the button below, or type it as +37499123456.",
    "choice": "Please choose one of the options.",
}
CANCELLED_TEXT = "Cancelled."
FLOW_BROKEN_TEXT = "Sorry, something went wrong. Send /start to begin again."
HANDOFF_ENDED_TEXT = "The conversation with our team has ended."


# --- Templating and validation --------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9]{7,15}$")


def lookup(variables: Mapping[str, Any], dotted: str) -> Any:
    """``weather.temp`` -> variables["weather"]["temp"]; None when any part is missing."""
    value: Any = variables
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def render(template: str, variables: Mapping[str, Any]) -> str:
    """Fill ``{name}`` placeholders; an unknown one stays as written so stray braces never break a text."""

    def fill(match: re.Match[str]) -> str:
        value = lookup(variables, match.group(1))
        return match.group(0) if value is None else str(value)

    return _PLACEHOLDER.sub(fill, template)


def _render_json(value: Any, variables: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return render(value, variables)
    if isinstance(value, list):
        return [_render_json(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: _render_json(item, variables) for key, item in value.items()}
    return value


def check_answer(step: QuestionStep, incoming: Incoming) -> tuple[bool, Any]:
    """Whether the user's input answers ``step``, and the value to store."""
    text = (incoming.text or "").strip()
    kind = step.validate_as
    if kind == "phone":
        phone = incoming.contact_phone or text.replace(" ", "").replace("-", "")
        if _PHONE.match(phone):
            return True, phone if phone.startswith("+") else f"+{phone}"
        return False, None
    if kind == "choice":
        chosen = _chosen_value(step, incoming)
        return (chosen is not None), chosen
    if not text:
        return False, None
    if kind == "number":
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            return False, None
        if not number.is_finite():
            return False, None
        return True, int(number) if number == number.to_integral_value() else float(number)
    if kind == "email":
        return (True, text.lower()) if _EMAIL.match(text) else (False, None)
    return True, text


def _chosen_value(step: QuestionStep, incoming: Incoming) -> str | None:
    if incoming.callback_data is not None:
        index = _button_index(incoming.callback_data, step.id)
        if index is not None and index < len(step.choices):
            return step.choices[index]
        return None
    typed = (incoming.text or "").strip().casefold()
    for choice in step.choices:
        if choice.casefold() == typed:
            return choice
    return None


def _compare(rule: ConditionRule, variables: Mapping[str, Any]) -> bool:
    actual = lookup(variables, rule.var)
    expected = rule.value
    if rule.op == "exists":
        return actual not in (None, "")
    if rule.op == "not_exists":
        return actual in (None, "")
    if actual is None:
        return False
    if rule.op in ("gt", "gte", "lt", "lte"):
        try:
            left, right = Decimal(str(actual)), Decimal(str(expected))
        except InvalidOperation:
            return False
        return {
            "gt": left > right,
            "gte": left >= right,
            "lt": left < right,
            "lte": left <= right,
        }[rule.op]
    if rule.op == "contains":
        return str(expected).casefold() in str(actual).casefold()
    if rule.op == "in":
        options = expected if isinstance(expected, list) else [expected]
        return str(actual).casefold() in {str(option).casefold() for option in options}
    same = str(actual).casefold() == str(expected).casefold()
    return same if rule.op == "eq" else not same


# --- Buttons --------------------------------------------------------------------------------------


def callback_data_for(step_id: str, index: int) -> str:
    """``step:index``: at most 32 + 1 + 2 bytes, far inside Telegram's 64-byte limit."""
    return f"{step_id}:{index}"


def _button_index(data: str, step_id: str) -> int | None:
    owner, _, index = data.rpartition(":")
    if owner != step_id or not index.isdigit():
        return None
    return int(index)


def _step_buttons(
    step_id: str, specs: list[ButtonSpec], variables: Mapping[str, Any]
) -> tuple[tuple[Button, ...], ...]:
    rows = []
    for index, spec in enumerate(specs):
        text = render(spec.text, variables)
        if spec.url is not None:
            rows.append((Button(text=text, url=render(spec.url, variables)),))
        else:
            rows.append((Button(text=text, callback_data=callback_data_for(step_id, index)),))
    return tuple(rows)


def _choice_buttons(step: QuestionStep) -> tuple[tuple[Button, ...], ...]:
    return tuple(
        (Button(text=choice, callback_data=callback_data_for(step.id, i)),)
        for i, choice in enumerate(step.choices)
    )


# --- Running --------------------------------------------------------------------------------------


@dataclass
class _Run:
    flow: Flow
    conversation: Conversation
    http: HttpPort | None
    actions: list[Action] = field(default_factory=list)

    def send(self, text: str, **kwargs: Any) -> None:
        self.actions.append(SendText(text=render(text, self.conversation.variables), **kwargs))

    def finish(self, *, completed: bool) -> Turn:
        self.conversation.step = None
        self.actions.append(FlowFinished(completed=completed))
        return Turn(self.actions, self.conversation)

    def wait_at(self, step_id: str) -> Turn:
        self.conversation.step = step_id
        return Turn(self.actions, self.conversation)

    def advance(self, step_id: str | None) -> Turn:
        """Run steps from ``step_id`` until one waits for the user or the flow ends."""
        for _ in range(MAX_STEPS_PER_TURN):
            if step_id is None:
                return self.finish(completed=True)
            step = self.flow.step(step_id)
            variables = self.conversation.variables
            if isinstance(step, MessageStep):
                buttons = _step_buttons(step.id, step.buttons, variables)
                self.send(step.text, buttons=buttons, keyboard=step.keyboard)
                if any(spec.next or spec.response for spec in step.buttons):
                    return self.wait_at(step.id)
                step_id = step.next
            elif isinstance(step, MenuStep):
                self.send(
                    step.text, buttons=_step_buttons(step.id, step.buttons, variables), keyboard=step.keyboard
                )
                return self.wait_at(step.id)
            elif isinstance(step, QuestionStep):
                self._ask(step)
                return self.wait_at(step.id)
            elif isinstance(step, ConditionStep):
                step_id = next((rule.next for rule in step.rules if _compare(rule, variables)), step.default)
            elif isinstance(step, HttpStep):
                step_id = self._call(step)
            elif isinstance(step, HandoffStep):
                self.send(step.text, remove_keyboard=True)
                self.conversation.handoff_chat_id = step.operator_chat_id
                self.actions.append(StartHandoff(step.operator_chat_id, dict(variables)))
                return self.wait_at(step.id)
        # a flow whose conditions loop forever: stop, tell the user, and report it as not completed
        self.send(FLOW_BROKEN_TEXT, remove_keyboard=True)
        return self.finish(completed=False)

    def _ask(self, step: QuestionStep, *, error: str | None = None) -> None:
        if error is not None:
            self.send(error)
        if step.validate_as == "choice":
            self.send(step.text, buttons=_choice_buttons(step))
        elif step.validate_as == "phone":
            contact = ((Button(text="Share my phone number", request_contact=True),),)
            self.send(step.text, buttons=contact, keyboard="reply")
        else:
            self.send(step.text)

    def _call(self, step: HttpStep) -> str | None:
        variables = self.conversation.variables
        if self.http is None:
            result: Any = {"error": "HTTP steps are not available here"}
            ok = False
        else:
            try:
                result = self.http(
                    method=step.method,
                    url=render(step.url, variables),
                    headers={key: render(value, variables) for key, value in step.headers.items()},
                    json=_render_json(step.body, variables) if step.body is not None else None,
                )
                ok = True
            except HttpStepFailed as exc:
                result, ok = {"error": str(exc)}, False
        variables[step.save_as] = result
        self.actions.append(SaveAnswer(step.id, step.save_as, result))
        return step.next if ok or step.on_error is None else step.on_error


def user_variables(user: Mapping[str, Any]) -> dict[str, Any]:
    first = user.get("first_name") or ""
    last = user.get("last_name") or ""
    return {
        "first_name": first,
        "last_name": last,
        "full_name": f"{first} {last}".strip(),
        "username": user.get("username") or "",
        "language": user.get("language_code") or "",
        "user_id": user.get("id"),
    }


def start(flow: Flow, *, user: Mapping[str, Any], http: HttpPort | None = None) -> Turn:
    """Begin ``flow`` for a user (a matched command, or the default flow for a first message)."""
    conversation = Conversation(variables=user_variables(user))
    return _Run(flow, conversation, http).advance(flow.initial_step)


def handle(
    flow: Flow, conversation: Conversation, incoming: Incoming, *, http: HttpPort | None = None
) -> Turn:
    """Continue an active conversation with what the user just did."""
    run = _Run(flow, conversation, http)
    if incoming.callback_query_id is not None:
        run.actions.append(AnswerCallback(incoming.callback_query_id))
    conversation.variables.update(user_variables(incoming.user) if incoming.user else {})

    if (incoming.text or "").strip().split("@")[0] == CANCEL_COMMAND:
        ended_handoff = conversation.handoff_chat_id is not None
        conversation.handoff_chat_id = None
        run.send(HANDOFF_ENDED_TEXT if ended_handoff else CANCELLED_TEXT, remove_keyboard=True)
        return run.finish(completed=ended_handoff)

    if conversation.handoff_chat_id is not None:
        if incoming.text:
            run.actions.append(RelayToOperator(conversation.handoff_chat_id, incoming.text))
        return Turn(run.actions, conversation)

    if conversation.step is None:
        return run.advance(flow.initial_step)
    try:
        step = flow.step(conversation.step)
    except KeyError:
        # the flow was edited under the user's feet: start it again rather than fail
        return run.advance(flow.initial_step)

    if isinstance(step, QuestionStep):
        ok, value = check_answer(step, incoming)
        if not ok:
            run._ask(
                step,
                error=render(step.error_text or DEFAULT_ERRORS[step.validate_as], conversation.variables),
            )
            return run.wait_at(step.id)
        conversation.variables[step.save_as] = value
        run.actions.append(SaveAnswer(step.id, step.save_as, value))
        return run.advance(step.next)

    if isinstance(step, MessageStep | MenuStep):
        spec = _pressed(step.id, step.buttons, incoming)
        if spec is None:
            # text at a menu, or a press on an old message: show the choices again
            return run.advance(step.id)
        if spec.response is not None:
            run.send(spec.response)
            return run.wait_at(step.id) if isinstance(step, MenuStep) else run.advance(step.next)
        if spec.next is not None:
            return run.advance(spec.next)
        return run.wait_at(step.id)

    return run.advance(step.id)


def _pressed(step_id: str, specs: list[ButtonSpec], incoming: Incoming) -> ButtonSpec | None:
    if incoming.callback_data is not None:
        index = _button_index(incoming.callback_data, step_id)
        return specs[index] if index is not None and index < len(specs) else None
    typed = (incoming.text or "").strip()
    return next((spec for spec in specs if spec.url is None and spec.text == typed), None)


def match_command(text: str | None, trigger: str, *, bot_username: str = "") -> bool:
    """``/start``, ``/start@my_bot`` and ``/start payload`` all match the trigger ``start`` or ``/start``."""
    if not text or not text.startswith("/"):
        return False
    command = text.split(maxsplit=1)[0][1:]
    name, _, addressee = command.partition("@")
    if addressee and bot_username and addressee.casefold() != bot_username.casefold():
        return False
    return name.casefold() == trigger.lstrip("/").casefold()
