from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from herald.core.errors import InvalidInput
from herald.telegram import client
from herald.telegram import keyboards as kb
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_messages, sandbox_press

TODAY = dt.date(2026, 11, 25)  # a Wednesday


def _rows(markup: InlineKeyboardMarkup) -> list[list[InlineKeyboardButton]]:
    return [list(row) for row in markup.inline_keyboard]


def _presses(markup: InlineKeyboardMarkup) -> list[str]:
    return [b.callback_data for row in _rows(markup) for b in row if isinstance(b.callback_data, str)]


def test_buttons_rows_and_grid() -> None:
    markup = kb.grid([kb.callback_button(str(i), f"n:{i}") for i in range(5)], columns=2)
    assert [[b.text for b in row] for row in _rows(markup)] == [["0", "1"], ["2", "3"], ["4"]]
    link = kb.keyboard([[kb.url_button("Open", "https://example.com")]])
    assert _rows(link)[0][0].url == "https://example.com"
    with pytest.raises(ValueError, match="64 bytes"):
        kb.callback_button("x", "é" * 33)
    with pytest.raises(ValueError, match="http"):
        kb.url_button("x", "javascript:alert(1)")


def test_calendar_lays_out_the_month_from_monday() -> None:
    rows = _rows(kb.calendar_keyboard(year=2026, month=11, today=TODAY))
    assert rows[0][1].text == "November 2026"
    assert [b.text for b in rows[1]] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    # 1 November 2026 is a Sunday: six blanks, then the 1st in the last column
    assert [b.text for b in rows[2]] == [" "] * 6 + ["·1·"]
    assert all(len(row) == 7 for row in rows[1:])
    assert rows[-1][0].text == "30"


@pytest.mark.parametrize(
    ("language", "title", "monday"), [("hy", "Նոյեմբեր 2026", "Երկ"), ("ru", "Ноябрь 2026", "Пн")]
)
def test_calendar_speaks_the_active_language(language: str, title: str, monday: str) -> None:
    with translation.override(language):
        rows = _rows(kb.calendar_keyboard(year=2026, month=11, today=TODAY))
    assert rows[0][1].text == title
    assert rows[1][0].text == monday


def test_past_days_are_shown_but_do_nothing() -> None:
    markup = kb.calendar_keyboard(year=2026, month=11, today=TODAY)
    by_text = {b.text: b.callback_data for row in _rows(markup)[2:] for b in row}
    assert by_text["·24·"] == "cal:x"
    assert by_text["25"] == "cal:d:20261125"
    assert kb.parse_calendar_callback("cal:x") == kb.CalendarIgnore()
    assert kb.parse_calendar_callback("cal:d:20261125") == kb.CalendarDay(TODAY)
    # a client that sends a past day anyway is refused when the handler passes today
    assert kb.parse_calendar_callback("cal:d:20261124", today=TODAY) == kb.CalendarIgnore()


def test_month_navigation() -> None:
    this_month = _rows(kb.calendar_keyboard(year=2026, month=11, today=TODAY))[0]
    assert this_month[0].callback_data == "cal:x"  # nothing to pick in October any more
    assert this_month[2].callback_data == "cal:m:202612"
    december = _rows(kb.calendar_keyboard(year=2026, month=12, today=TODAY))[0]
    assert december[0].callback_data == "cal:m:202611"
    assert kb.parse_calendar_callback("cal:m:202701") == kb.CalendarMonth(2027, 1)
    year_end = _rows(kb.calendar_keyboard(year=2026, month=12, today=TODAY, max_date=dt.date(2026, 12, 31)))
    assert year_end[0][2].callback_data == "cal:x"


def test_calendar_callback_data_is_small_and_parses_back() -> None:
    markup = kb.calendar_keyboard(year=2026, month=12, today=TODAY, prefix="booking-date")
    for data in _presses(markup):
        assert len(data.encode()) <= 32
        assert kb.parse_calendar_callback(data, prefix="booking-date") is not None


@pytest.mark.parametrize(
    "data", ["other:d:20261125", "cal:d:2026112", "cal:d:20261340", "cal:m:202613", "cal:q"]
)
def test_calendar_parser_ignores_foreign_or_broken_data(data: str) -> None:
    assert kb.parse_calendar_callback(data) is None


def test_time_picker_presets_and_callbacks() -> None:
    markup = kb.time_picker_keyboard(slots=kb.default_time_slots(step_minutes=90), columns=3)
    texts = [b.text for row in _rows(markup) for b in row]
    assert texts == ["09:00", "10:30", "12:00", "13:30", "15:00", "16:30", "18:00", "19:30", "21:00"]
    assert [len(row) for row in _rows(markup)] == [3, 3, 3]
    assert kb.parse_time_callback("time:t:1030") == dt.time(10, 30)
    assert kb.parse_time_callback("time:t:2460") is None
    assert kb.parse_time_callback("cal:t:1030") is None


@pytest.mark.parametrize(
    ("typed", "expected"), [("09:30", dt.time(9, 30)), (" 9:05 ", dt.time(9, 5)), ("23.59", dt.time(23, 59))]
)
def test_typed_time_is_accepted(typed: str, expected: dt.time) -> None:
    assert kb.parse_typed_time(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("tomorrow", "type it as HH:MM"),
        ("24:00", "hours go from 00 to 23"),
        ("10:75", "minutes go"),
        ("930", "HH:MM"),
    ],
)
def test_bad_typed_time_says_what_is_wrong(typed: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        kb.parse_typed_time(typed)


@pytest.mark.usefixtures("gateway")
def test_a_calendar_sent_through_the_sandbox_can_be_pressed(shop_bot: SandboxBot, ann: int) -> None:
    today = dt.date.today()
    markup = kb.calendar_keyboard(year=today.year, month=today.month, today=today)
    sent = client.call(shop_bot.token, "sendMessage", chat_id=ann, text="Pick a day", reply_markup=markup)
    shown = sandbox_messages(ann, shop_bot)[0]["reply_markup"]["inline_keyboard"]
    assert shown[0][1]["text"] == f"{today:%B %Y}"
    sandbox_press(shop_bot, ann, sent["message_id"], f"cal:d:{today:%Y%m%d}")
    updates = client.call(shop_bot.token, "getUpdates")
    query = updates[-1]["callback_query"]
    assert kb.parse_calendar_callback(query["data"], today=today) == kb.CalendarDay(today)
    assert (
        client.call(shop_bot.token, "answerCallbackQuery", callback_query_id=query["id"], text="Booked")
        is True
    )
