"""The JSON format of a flow, validated with pydantic, and its three accepted shapes.

Clients send the seed's shapes, which all normalise to one canonical form (``Flow``: named steps and an
initial step):

- simple: ``{"response": "Hello {first_name}"}``
- menu: ``{"type": "menu", "text": "Choose", "buttons": [...]}``
- multi-step: ``{"initial_step": "ask_name", "steps": [...]}``

Every error names the path of the bad field (``steps.1.next``), so an editor can find it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

STEP_ID = r"^[A-Za-z0-9_\-]{1,32}$"
VARIABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,31}$"
TELEGRAM_TEXT_LIMIT = 4096


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ButtonSpec(_Strict):
    """A button. It does one thing: answers with ``response``, opens ``url``, or goes to step ``next``.

    In a choice question a button with none of these picks ``value`` (or its own text) as the answer.
    """

    text: str = Field(min_length=1, max_length=64)
    response: str | None = Field(default=None, min_length=1, max_length=TELEGRAM_TEXT_LIMIT)
    url: str | None = Field(default=None, pattern=r"^(https?|tg)://\S+$", max_length=2048)
    next: str | None = Field(default=None, pattern=STEP_ID)
    value: str | None = Field(default=None, max_length=256)

    @model_validator(mode="after")
    def _one_action(self) -> ButtonSpec:
        actions = [name for name in ("response", "url", "next") if getattr(self, name) is not None]
        if len(actions) > 1:
            raise ValueError(f"a button does one thing; this one has {' and '.join(actions)}")
        return self


class _StepBase(_Strict):
    id: str = Field(pattern=STEP_ID)


class MessageStep(_StepBase):
    type: Literal["message"] = "message"
    text: str = Field(min_length=1, max_length=TELEGRAM_TEXT_LIMIT * 4)
    buttons: list[ButtonSpec] = Field(default_factory=list, max_length=30)
    keyboard: Literal["inline", "reply"] = "inline"
    next: str | None = Field(default=None, pattern=STEP_ID)


class MenuStep(_StepBase):
    type: Literal["menu"]
    text: str = Field(min_length=1, max_length=TELEGRAM_TEXT_LIMIT)
    buttons: list[ButtonSpec] = Field(min_length=1, max_length=30)
    keyboard: Literal["inline", "reply"] = "inline"


Validator = Literal["text", "number", "email", "phone", "choice"]


class QuestionStep(_StepBase):
    type: Literal["question"]
    text: str = Field(min_length=1, max_length=TELEGRAM_TEXT_LIMIT)
    save_as: str = Field(pattern=VARIABLE_NAME)
    validate_as: Validator = Field(default="text", alias="validate")
    choices: list[str] = Field(default_factory=list, max_length=30)
    error_text: str | None = Field(default=None, max_length=1024)
    next: str | None = Field(default=None, pattern=STEP_ID)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _choices_for_choice(self) -> QuestionStep:
        if self.validate_as == "choice" and not self.choices:
            raise ValueError('a question with "validate": "choice" needs a non-empty "choices" list')
        return self


ConditionOp = Literal["eq", "ne", "gt", "gte", "lt", "lte", "contains", "in", "exists", "not_exists"]


class ConditionRule(_Strict):
    var: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$")
    op: ConditionOp = "eq"
    value: Any = None
    next: str = Field(pattern=STEP_ID)


class ConditionStep(_StepBase):
    type: Literal["condition"]
    rules: list[ConditionRule] = Field(min_length=1, max_length=30)
    default: str | None = Field(default=None, pattern=STEP_ID)


class HttpStep(_StepBase):
    type: Literal["http"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: str = Field(pattern=r"^https?://\S+$", max_length=2048)
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] | None = None
    save_as: str = Field(pattern=VARIABLE_NAME)
    next: str | None = Field(default=None, pattern=STEP_ID)
    on_error: str | None = Field(default=None, pattern=STEP_ID)


class HandoffStep(_StepBase):
    type: Literal["handoff"]
    text: str = Field(default="Connecting you with a person. Write your message; /cancel ends the chat.")
    operator_chat_id: int | str

    @field_validator("operator_chat_id")
    @classmethod
    def _chat_id(cls, value: int | str) -> int | str:
        if isinstance(value, str) and not re.fullmatch(r"@[A-Za-z0-9_]{5,32}|-?\d+", value):
            raise ValueError("operator_chat_id must be a chat id or an @channel username")
        return value


Step = Annotated[
    MessageStep | MenuStep | QuestionStep | ConditionStep | HttpStep | HandoffStep,
    Field(discriminator="type"),
]


class Flow(_Strict):
    """The canonical form every accepted shape becomes."""

    initial_step: str = Field(pattern=STEP_ID)
    steps: list[Step] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _links_resolve(self) -> Flow:
        ids = [step.id for step in self.steps]
        problems: list[str] = []
        seen: set[str] = set()
        for index, step_id in enumerate(ids):
            if step_id in seen:
                problems.append(f"steps.{index}.id: duplicate step id {step_id!r}")
            seen.add(step_id)
        if self.initial_step not in seen:
            problems.append(f"initial_step: no step has the id {self.initial_step!r}")
        for index, step in enumerate(self.steps):
            for path, target in _links(step):
                if target not in seen:
                    problems.append(f"steps.{index}.{path}: no step has the id {target!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


def _links(step: Any) -> Iterable[tuple[str, str]]:
    for name in ("next", "default", "on_error"):
        target = getattr(step, name, None)
        if target is not None:
            yield name, target
    for index, button in enumerate(getattr(step, "buttons", ())):
        if button.next is not None:
            yield f"buttons.{index}.next", button.next
    for index, rule in enumerate(getattr(step, "rules", ())):
        yield f"rules.{index}.next", rule.next


class FlowValidationError(ValueError):
    """A flow that cannot run; ``errors`` lists ``(path, message)`` pairs, the path as ``steps.1.next``."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" if path else message for path, message in errors))


def _canonical(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise FlowValidationError([("", f"a flow is a JSON object, not {type(data).__name__}")])
    if "steps" in data:
        steps = data.get("steps")
        initial = data.get("initial_step")
        if initial is None and isinstance(steps, list) and steps and isinstance(steps[0], dict):
            initial = steps[0].get("id")
        extra = set(data) - {"steps", "initial_step"}
        if extra:
            raise FlowValidationError(
                [(name, "unknown field in a multi-step flow") for name in sorted(extra)]
            )
        return {"initial_step": initial, "steps": steps}
    if data.get("type") == "menu":
        menu = {key: value for key, value in data.items() if key != "type"}
        return {"initial_step": "menu", "steps": [{"id": "menu", "type": "menu", **menu}]}
    if "response" in data:
        extra = set(data) - {"response", "buttons"}
        if extra:
            raise FlowValidationError([(name, "unknown field in a simple flow") for name in sorted(extra)])
        step: dict[str, Any] = {"id": "start", "type": "message", "text": data["response"]}
        if "buttons" in data:
            step["buttons"] = data["buttons"]
        return {"initial_step": "start", "steps": [step]}
    raise FlowValidationError(
        [("", 'expected {"response": ...}, {"type": "menu", ...} or {"initial_step": ..., "steps": [...]}')]
    )


def _error_path(loc: tuple[int | str, ...], data: dict[str, Any]) -> str:
    """Drop pydantic's union tags (``steps.1.question.save_as`` -> ``steps.1.save_as``)."""
    parts = [str(part) for part in loc if str(part) not in _STEP_TAGS]
    path = ".".join(parts)
    if len(data.get("steps", ())) == 1 and data["initial_step"] in ("menu", "start"):
        # a menu or simple flow: name the field as the client wrote it, without "steps.0."
        path = path.removeprefix("steps.0.").removeprefix("steps.0")
    return path


_STEP_TAGS = {"message", "menu", "question", "condition", "http", "handoff"}


def parse_flow(data: Any) -> Flow:
    """Validate a flow in any accepted shape; return its canonical form or raise ``FlowValidationError``."""
    canonical = _canonical(data)
    try:
        return Flow.model_validate(canonical)
    except ValidationError as exc:
        errors: list[tuple[str, str]] = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "value_error" and not error["loc"]:
                errors.extend(_split_link_errors(message))
            else:
                errors.append((_error_path(tuple(error["loc"]), canonical), message))
        raise FlowValidationError(errors) from None


def _split_link_errors(message: str) -> list[tuple[str, str]]:
    pairs = []
    for part in message.split("; "):
        path, _, text = part.partition(": ")
        pairs.append((path, text))
    return pairs
