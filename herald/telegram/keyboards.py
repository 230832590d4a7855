"""Inline keyboards as pure functions returning PTB ``InlineKeyboardMarkup``: buttons and rows, a month
calendar date picker and a time picker, each with a parser for the callback data its buttons send.

Callback data stays well inside Telegram's 64 bytes: ``<prefix>:d:20261125`` (a day), ``<prefix>:m:202612``
(show a month), ``<prefix>:t:0930`` (a time slot), ``<prefix>:x`` (a button that does nothing).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.dates import MONTHS, WEEKDAYS_ABBR
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from herald.core.errors import InvalidInput

CALLBACK_DATA_LIMIT = 64
_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def callback_button(text: str, data: str) -> InlineKeyboardButton:
    size = len(data.encode())
    if not 1 <= size <= CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data must be 1-{CALLBACK_DATA_LIMIT} bytes, got {size}: {data!r}")
    return InlineKeyboardButton(text=text, callback_data=data)


def url_button(text: str, url: str) -> InlineKeyboardButton:
    if not url.startswith(("https://", "http://", "tg://")):
        raise ValueError(f"a URL button needs an http(s) or tg:// link, got {url!r}")
    return InlineKeyboardButton(text=text, url=url)


def keyboard(rows: Iterable[Iterable[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(row) for row in rows])


def grid(buttons: Sequence[InlineKeyboardButton], *, columns: int) -> InlineKeyboardMarkup:
    """Buttons laid out left to right in rows of ``columns``."""
    if columns < 1:
        raise ValueError("columns must be at least 1")
    return keyboard(buttons[i : i + columns] for i in range(0, len(buttons), columns))


def _check_prefix(prefix: str) -> None:
    if not _PREFIX.match(prefix):
        raise ValueError(f"a keyboard prefix is 1-32 letters, digits, '_' or '-', got {prefix!r}")


def _noop(text: str, prefix: str) -> InlineKeyboardButton:
    return callback_button(text, f"{prefix}:x")


# --- Calendar ---------------------------------------------------------------------------------------------


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def calendar_keyboard(
    *,
    year: int,
    month: int,
    today: dt.date,
    prefix: str = "cal",
    max_date: dt.date | None = None,
) -> InlineKeyboardMarkup:
    """A month to pick a day from, weeks starting on Monday.

    Days before ``today`` (and after ``max_date``) are shown but do nothing when pressed; the arrows move
    one month back or forward and disappear where every day would be out of range.
    """
    _check_prefix(prefix)
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1-12, got {month}")
    prev_year, prev_month = _shift_month(year, month, -1)
    next_year, next_month = _shift_month(year, month, 1)
    has_past_month = (prev_year, prev_month) >= (today.year, today.month)
    has_next_month = max_date is None or dt.date(next_year, next_month, 1) <= max_date
    header = [
        callback_button("«", f"{prefix}:m:{prev_year:04d}{prev_month:02d}")
        if has_past_month
        else _noop(" ", prefix),
        _noop(f"{MONTHS[month]} {year}", prefix),  # in the active language, from Django's catalogs
        callback_button("»", f"{prefix}:m:{next_year:04d}{next_month:02d}")
        if has_next_month
        else _noop(" ", prefix),
    ]
    rows = [header, [_noop(str(WEEKDAYS_ABBR[weekday]), prefix) for weekday in range(7)]]
    for week in calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(year, month):
        row = []
        for day in week:
            if day.month != month:
                row.append(_noop(" ", prefix))
            elif day < today or (max_date is not None and day > max_date):
                row.append(_noop(f"·{day.day}·", prefix))
            else:
                row.append(callback_button(str(day.day), f"{prefix}:d:{day:%Y%m%d}"))
        rows.append(row)
    return keyboard(rows)


@dataclass(frozen=True)
class CalendarDay:
    """The user picked this day."""

    day: dt.date


@dataclass(frozen=True)
class CalendarMonth:
    """The user asked to see another month: answer by editing the markup to ``calendar_keyboard`` of it."""

    year: int
    month: int


@dataclass(frozen=True)
class CalendarIgnore:
    """A button that does nothing (a heading, a blank, a past day): just answer the callback query."""


CalendarAction = CalendarDay | CalendarMonth | CalendarIgnore


def parse_calendar_callback(
    data: str, *, prefix: str = "cal", today: dt.date | None = None, max_date: dt.date | None = None
) -> CalendarAction | None:
    """What a calendar button press means; ``None`` if the data is not from this calendar.

    Pass ``today`` / ``max_date`` to refuse days outside the range even if a client sends them anyway.
    """
    head, _, rest = data.partition(":")
    if head != prefix:
        return None
    kind, _, value = rest.partition(":")
    try:
        if kind == "d" and len(value) == 8:
            day = dt.datetime.strptime(value, "%Y%m%d").date()
            if (today is not None and day < today) or (max_date is not None and day > max_date):
                return CalendarIgnore()
            return CalendarDay(day)
        if kind == "m" and len(value) == 6 and value.isdigit():
            year, month = int(value[:4]), int(value[4:])
            if 1 <= month <= 12:
                return CalendarMonth(year, month)
    except ValueError:
        return None
    if kind == "x" and not value:
        return CalendarIgnore()
    return None


# --- Time -------------------------------------------------------------------------------------------------


def default_time_slots(
    *, start: dt.time = dt.time(9, 0), end: dt.time = dt.time(21, 0), step_minutes: int = 60
) -> list[dt.time]:
    """Slots from ``start`` to ``end`` inclusive, every ``step_minutes``."""
    if step_minutes < 1:
        raise ValueError("step_minutes must be at least 1")
    first = start.hour * 60 + start.minute
    last = end.hour * 60 + end.minute
    return [dt.time(m // 60, m % 60) for m in range(first, last + 1, step_minutes)]


def time_picker_keyboard(
    *, slots: Sequence[dt.time] | None = None, prefix: str = "time", columns: int = 4
) -> InlineKeyboardMarkup:
    """Preset times as buttons; a user can also type ``HH:MM`` (see ``parse_typed_time``)."""
    _check_prefix(prefix)
    chosen = list(slots) if slots is not None else default_time_slots()
    buttons = [callback_button(f"{slot:%H:%M}", f"{prefix}:t:{slot:%H%M}") for slot in chosen]
    return grid(buttons, columns=columns)


def parse_time_callback(data: str, *, prefix: str = "time") -> dt.time | None:
    head, _, rest = data.partition(":")
    kind, _, value = rest.partition(":")
    if head != prefix or kind != "t" or len(value) != 4 or not value.isdigit():
        return None
    hours, minutes = int(value[:2]), int(value[2:])
    if hours > 23 or minutes > 59:
        return None
    return dt.time(hours, minutes)


_TYPED_TIME = re.compile(r"^\s*(\d{1,2})\s*[:.]\s*(\d{2})\s*$")


def parse_typed_time(text: str) -> dt.time:
    """A time typed by a user as ``HH:MM`` (``9:30`` and ``09.30`` are accepted too)."""
    match = _TYPED_TIME.match(text)
    if match is None:
        raise InvalidInput(f"{text.strip()[:20]!r} is not a time: type it as HH:MM, for example 09:30.")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23:
        raise InvalidInput(f"There is no hour {hours}: hours go from 00 to 23.")
    if minutes > 59:
        raise InvalidInput(f"There is no minute {minutes}: minutes go from 00 to 59.")
    return dt.time(hours, minutes)
