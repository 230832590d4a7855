"""The flow engine, conversation by conversation, as a bot user would experience it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.bots.flows import (
    AnswerCallback,
    Conversation,
    FlowFinished,
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
from herald.bots.flows.engine import HttpStepFailed, render

ANNA = {"id": 11, "first_name": "Anna", "last_name": "Petrosyan", "username": "anna"}


def texts(turn: Turn) -> list[str]:
    return [a.text for a in turn.actions if isinstance(a, SendText)]


def saved(turn: Turn) -> dict[str, Any]:
    return {a.key: a.value for a in turn.actions if isinstance(a, SaveAnswer)}


def finished(turn: Turn) -> bool | None:
    ends = [a.completed for a in turn.actions if isinstance(a, FlowFinished)]
    return ends[0] if ends else None


def say(flow: Any, conversation: Conversation, text: str) -> Turn:
    return handle(flow, conversation, Incoming(text=text, user=ANNA))


def press(flow: Any, conversation: Conversation, data: str) -> Turn:
    return handle(flow, conversation, Incoming(callback_data=data, callback_query_id="cq1", user=ANNA))


def test_simple_flow_greets_by_name_and_ends() -> None:
    turn = start(parse_flow({"response": "Hello {first_name}"}), user=ANNA)
    assert texts(turn) == ["Hello Anna"]
    assert finished(turn) is True
    assert not turn.conversation.active


def test_seed_registration_form_asks_validates_and_thanks() -> None:
    flow = parse_flow(
        {
            "initial_step": "ask_name",
            "steps": [
                {
                    "id": "ask_name",
                    "type": "question",
                    "text": "Your name?",
                    "save_as": "name",
                    "next": "ask_age",
                },
                {
                    "id": "ask_age",
                    "type": "question",
                    "text": "Your age?",
                    "save_as": "age",
                    "validate": "number",
                    "next": "done",
                },
                {"id": "done", "type": "message", "text": "Thanks {name}, {age} it is!"},
            ],
        }
    )
    turn = start(flow, user=ANNA)
    assert texts(turn) == ["Your name?"]
    turn = say(flow, turn.conversation, "Anna P.")
    assert texts(turn) == ["Your age?"]
    turn = say(flow, turn.conversation, "twenty")
    assert texts(turn) == ["Please send a number, for example 42.", "Your age?"]
    assert turn.conversation.step == "ask_age"
    turn = say(flow, turn.conversation, "29")
    assert texts(turn) == ["Thanks Anna P., 29 it is!"]
    assert saved(turn) == {"age": 29}
    assert finished(turn) is True


def test_menu_answers_each_button_and_stays_open() -> None:
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
    turn = start(flow, user=ANNA)
    (menu,) = turn.actions[:1]
    assert isinstance(menu, SendText)
    assert [[b.text for b in row] for row in menu.buttons] == [["A"], ["Site"]]
    assert menu.buttons[1][0].url == "https://example.com"
    assert menu.buttons[0][0].callback_data == "menu:0"
    turn = press(flow, turn.conversation, "menu:0")
    assert turn.actions[0] == AnswerCallback("cq1")
    assert texts(turn) == ["You chose A"]
    assert turn.conversation.step == "menu"
    # typing something else shows the menu again instead of ignoring the user
    assert texts(say(flow, turn.conversation, "hello?")) == ["Choose"]


def test_a_press_on_a_button_of_another_step_is_answered_and_shows_the_current_step() -> None:
    flow = parse_flow({"type": "menu", "text": "Choose", "buttons": [{"text": "A", "response": "a"}]})
    turn = press(flow, start(flow, user=ANNA).conversation, "old_step:3")
    assert turn.actions[0] == AnswerCallback("cq1")
    assert texts(turn) == ["Choose"]


CHOICE_FLOW = {
    "steps": [
        {
            "id": "size",
            "type": "question",
            "text": "Size?",
            "save_as": "size",
            "validate": "choice",
            "choices": ["S", "M", "L"],
            "next": "route",
        },
        {
            "id": "route",
            "type": "condition",
            "rules": [{"var": "size", "op": "eq", "value": "L", "next": "big"}],
            "default": "small",
        },
        {"id": "big", "type": "message", "text": "Big one!"},
        {"id": "small", "type": "message", "text": "Size {size} noted."},
    ]
}


def test_choice_by_button_or_by_typing_and_a_condition_on_the_answer() -> None:
    flow = parse_flow(CHOICE_FLOW)
    turn = start(flow, user=ANNA)
    assert [b.text for row in turn.actions[0].buttons for b in row] == ["S", "M", "L"]  # type: ignore[union-attr]
    assert texts(press(flow, Conversation.from_json(turn.conversation.to_json()), "size:2")) == ["Big one!"]
    assert texts(say(flow, Conversation.from_json(turn.conversation.to_json()), "m")) == ["Size M noted."]
    bad = say(flow, Conversation.from_json(turn.conversation.to_json()), "XXL")
    assert texts(bad) == ["Please choose one of the options.", "Size?"]


@pytest.mark.parametrize(
    ("kind", "good", "stored", "bad"),
    [
        ("email", "Anna@Example.com", "anna@example.com", "anna@"),
        ("phone", "+374 99 123-456", "+37499123456", "call me"),
        ("number", "2,5", 2.5, "NaN"),
        ("text", "anything", "anything", "   "),
    ],
)
def test_answer_validation(kind: str, good: str, stored: object, bad: str) -> None:
    flow = parse_flow(
        {"steps": [{"id": "q", "type": "question", "text": "?", "save_as": "v", "validate": kind}]}
    )
    conversation = start(flow, user=ANNA).conversation
    assert saved(say(flow, Conversation.from_json(conversation.to_json()), good)) == {"v": stored}
    rejected = say(flow, Conversation.from_json(conversation.to_json()), bad)
    assert rejected.conversation.step == "q"
    assert len(texts(rejected)) == 2


def test_phone_question_offers_the_contact_button_and_accepts_a_shared_contact() -> None:
    flow = parse_flow(
        {
            "steps": [
                {"id": "q", "type": "question", "text": "Phone?", "save_as": "phone", "validate": "phone"}
            ]
        }
    )
    turn = start(flow, user=ANNA)
    ask = turn.actions[0]
    assert isinstance(ask, SendText) and ask.keyboard == "reply" and ask.buttons[0][0].request_contact
    turn = handle(flow, turn.conversation, Incoming(contact_phone="37499123456", user=ANNA))
    assert saved(turn) == {"phone": "+37499123456"}


def test_cancel_anywhere_ends_the_conversation() -> None:
    flow = parse_flow(CHOICE_FLOW)
    turn = say(flow, start(flow, user=ANNA).conversation, "/cancel")
    assert texts(turn) == ["Cancelled."]
    assert finished(turn) is False
    assert not turn.conversation.active


def test_http_step_stores_the_reply_and_follows_on_error() -> None:
    flow = parse_flow(
        {
            "steps": [
                {"id": "city", "type": "question", "text": "City?", "save_as": "city", "next": "fetch"},
                {
                    "id": "fetch",
                    "type": "http",
                    "method": "POST",
                    "url": "https://api.example.com/weather/{city}",
                    "body": {"user": "{username}"},
                    "save_as": "weather",
                    "next": "ok",
                    "on_error": "sorry",
                },
                {"id": "ok", "type": "message", "text": "{city}: {weather.temp} degrees"},
                {"id": "sorry", "type": "message", "text": "Weather is unavailable: {weather.error}"},
            ]
        }
    )
    calls: list[dict[str, Any]] = []

    def working(*, method: str, url: str, headers: Mapping[str, str], json: Any | None) -> Any:
        calls.append({"method": method, "url": url, "json": json})
        return {"temp": 21}

    def failing(*, method: str, url: str, headers: Mapping[str, str], json: Any | None) -> Any:
        raise HttpStepFailed("HTTP 502 from api.example.com")

    conversation = start(flow, user=ANNA).conversation
    turn = handle(
        flow,
        Conversation.from_json(conversation.to_json()),
        Incoming(text="Yerevan", user=ANNA),
        http=working,
    )
    assert texts(turn) == ["Yerevan: 21 degrees"]
    assert calls == [
        {"method": "POST", "url": "https://api.example.com/weather/Yerevan", "json": {"user": "anna"}}
    ]
    turn = handle(
        flow,
        Conversation.from_json(conversation.to_json()),
        Incoming(text="Yerevan", user=ANNA),
        http=failing,
    )
    assert texts(turn) == ["Weather is unavailable: HTTP 502 from api.example.com"]


def test_handoff_relays_messages_to_the_operator_until_cancel() -> None:
    flow = parse_flow({"steps": [{"id": "human", "type": "handoff", "operator_chat_id": -1001234567890}]})
    turn = start(flow, user=ANNA)
    assert any(isinstance(a, StartHandoff) and a.operator_chat_id == -1001234567890 for a in turn.actions)
    turn = say(flow, turn.conversation, "my order is late")
    assert turn.actions == [RelayToOperator(-1001234567890, "my order is late")]
    turn = say(flow, turn.conversation, "/cancel")
    assert texts(turn) == ["The conversation with our team has ended."]
    assert not turn.conversation.active


def test_a_condition_loop_stops_with_a_message_instead_of_hanging() -> None:
    flow = parse_flow(
        {
            "steps": [
                {"id": "a", "type": "condition", "rules": [{"var": "x", "op": "not_exists", "next": "a"}]}
            ]
        }
    )
    turn = start(flow, user=ANNA)
    assert texts(turn) == ["Sorry, something went wrong. Send /start to begin again."]
    assert finished(turn) is False


def test_a_step_removed_while_a_user_was_in_it_restarts_the_flow() -> None:
    flow = parse_flow({"response": "Hi"})
    turn = say(flow, Conversation(step="gone"), "hello")
    assert texts(turn) == ["Hi"]


@pytest.mark.parametrize(
    ("text", "trigger", "matches"),
    [
        ("/start", "start", True),
        ("/start@shop_bot promo", "/start", True),
        ("/start@other_bot", "start", False),
        ("/starting", "start", False),
        ("start", "start", False),
        ("/HELP", "help", True),
    ],
)
def test_commands_match_their_trigger(text: str, trigger: str, matches: bool) -> None:
    assert match_command(text, trigger, bot_username="shop_bot") is matches


@given(st.text())
def test_render_never_fails_and_leaves_unknown_placeholders(text: str) -> None:
    assert render(text, {}) == text
