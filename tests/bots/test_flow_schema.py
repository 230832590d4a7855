"""The flow format: the seed's three shapes are accepted, and every mistake is reported with its path."""

from __future__ import annotations

from typing import Any

import pytest

from herald.bots.flows import FlowValidationError, parse_flow
from herald.bots.flows.schema import MenuStep, MessageStep, QuestionStep

SEED_MULTI_STEP: dict[str, Any] = {
    "initial_step": "ask_name",
    "steps": [
        {"id": "ask_name", "type": "question", "text": "Your name?", "save_as": "name", "next": "ask_age"},
        {
            "id": "ask_age",
            "type": "question",
            "text": "Your age?",
            "save_as": "age",
            "validate": "number",
            "next": "done",
        },
        {"id": "done", "type": "message", "text": "Thanks {name}!"},
    ],
}


def test_simple_shape_becomes_one_message_step() -> None:
    flow = parse_flow({"response": "Hello {first_name}"})
    assert flow.initial_step == "start"
    assert flow.steps == [MessageStep(id="start", text="Hello {first_name}")]


def test_menu_shape_keeps_its_buttons() -> None:
    flow = parse_flow(
        {
            "type": "menu",
            "text": "Choose",
            "buttons": [
                {"text": "A", "response": "You chose A"},
                {"text": "Site", "url": "https://example.com"},
            ],
        }
    )
    (menu,) = flow.steps
    assert isinstance(menu, MenuStep)
    assert [b.text for b in menu.buttons] == ["A", "Site"]
    assert menu.buttons[1].url == "https://example.com"


def test_seed_multi_step_shape() -> None:
    flow = parse_flow(SEED_MULTI_STEP)
    age = flow.step("ask_age")
    assert isinstance(age, QuestionStep)
    assert age.validate_as == "number"
    assert flow.initial_step == "ask_name"


def test_initial_step_defaults_to_the_first_step() -> None:
    data = {"steps": SEED_MULTI_STEP["steps"]}
    assert parse_flow(data).initial_step == "ask_name"


def _errors(data: object) -> dict[str, str]:
    with pytest.raises(FlowValidationError) as caught:
        parse_flow(data)
    return dict(caught.value.errors)


def test_a_link_to_a_missing_step_is_refused_with_its_path() -> None:
    data = {
        **SEED_MULTI_STEP,
        "steps": [*SEED_MULTI_STEP["steps"][:2], {"id": "end", "type": "message", "text": "x"}],
    }
    errors = _errors(data)
    assert errors == {"steps.1.next": "no step has the id 'done'"}


def test_a_bad_field_deep_in_a_step_is_named_by_path() -> None:
    steps: list[dict[str, Any]] = [dict(s) for s in SEED_MULTI_STEP["steps"]]
    steps[1]["validate"] = "age"
    errors = _errors({**SEED_MULTI_STEP, "steps": steps})
    assert list(errors) == ["steps.1.validate"]
    assert "'text', 'number', 'email', 'phone' or 'choice'" in errors["steps.1.validate"]


def test_menu_errors_are_named_as_the_client_wrote_them() -> None:
    errors = _errors(
        {"type": "menu", "text": "Choose", "buttons": [{"text": "A", "url": "javascript:alert(1)"}]}
    )
    assert list(errors) == ["buttons.0.url"]


def test_a_button_that_does_two_things_is_refused() -> None:
    errors = _errors(
        {"type": "menu", "text": "Choose", "buttons": [{"text": "A", "response": "x", "url": "https://a.b"}]}
    )
    assert errors["buttons.0"] == "a button does one thing; this one has response and url"


def test_duplicate_ids_unknown_initial_step_and_unknown_shape() -> None:
    errors = _errors({"initial_step": "nope", "steps": [{"id": "a", "type": "message", "text": "1"}] * 2})
    assert errors == {"steps.1.id": "duplicate step id 'a'", "initial_step": "no step has the id 'nope'"}
    assert "" in _errors({"hello": "world"})
    assert _errors(["not", "an", "object"]) == {"": "a flow is a JSON object, not list"}


def test_choice_question_needs_choices() -> None:
    errors = _errors(
        {"steps": [{"id": "q", "type": "question", "text": "?", "save_as": "c", "validate": "choice"}]}
    )
    assert "choices" in errors["steps.0"]
