"""The studio's screens: the text and buttons of each state, every one with Back and Main menu."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from herald.studio import texts
from herald.studio.callbacks import Action, calendar_prefix, cb, time_prefix
from herald.studio.models import Studio, StudioEditor
from herald.telegram.formatting import escape_html
from herald.telegram.keyboards import (
    calendar_keyboard,
    callback_button,
    default_time_slots,
    keyboard,
    time_picker_keyboard,
)

Screen = tuple[str, InlineKeyboardMarkup]
Rows = list[list[InlineKeyboardButton]]
SCHEDULE_DAYS_AHEAD = 365


def button(text: Any, data: str) -> InlineKeyboardButton:
    return callback_button(str(text), data)


def nav(back: str) -> list[InlineKeyboardButton]:
    return [button(texts.back(), back), button(texts.main_menu(), cb(Action.MENU))]


def with_nav(rows: Rows, back: str) -> InlineKeyboardMarkup:
    return keyboard([*rows, nav(back)])


def main_menu(*, is_admin: bool) -> Screen:
    rows = [
        [button(texts.new_post(), cb(Action.NEW)), button(texts.drafts(), cb(Action.DRAFTS, arg="1"))],
        [
            button(texts.scheduled(), cb(Action.SCHEDULED, arg="1")),
            button(texts.analytics(), cb(Action.ANALYTICS)),
        ],
        [button(texts.settings(), cb(Action.SETTINGS))] if is_admin else [],
        [button(texts.help_label(), cb(Action.HELP))],
    ]
    return texts.main_menu_title(), keyboard(row for row in rows if row)


def only_menu() -> InlineKeyboardMarkup:
    return keyboard([[button(texts.main_menu(), cb(Action.MENU))]])


def format_label(fmt: str) -> str:
    return str(texts.FORMAT_LABELS.get(fmt, fmt))


def choose_format(*, default: str, post: Any = None) -> Screen:
    buttons = []
    for fmt in texts.FORMAT_LABELS:
        label = format_label(fmt)
        if fmt == default:
            label = f"{label} {texts.default_marker()}"
        buttons.append(button(label, cb(Action.FORMAT, post, arg=fmt)))
    rows = [buttons[:2], buttons[2:]]
    return texts.choose_format(), with_nav(rows, cb(Action.MENU))


def keywords(post: Any) -> Screen:
    return texts.enter_keywords(format_label(post.format)), with_nav([], cb(Action.FORMAT, post))


def details(post: Any) -> Screen:
    return texts.enter_details(), with_nav(
        [[button(texts.skip(), cb(Action.SKIP, post))]], cb(Action.KEYWORDS, post)
    )


def writing(post: Any) -> Screen:
    return texts.writing(), only_menu()


def review(post: Any, warnings: Sequence[str] = ()) -> Screen:
    body = escape_html(post.text) if post.text else texts.no_text_yet()
    lines = [texts.review_title(), "", body]
    if warnings:
        lines += ["", *(f"<i>{escape_html(w)}</i>" for w in warnings)]
    rows = [
        [button(texts.approve(), cb(Action.APPROVE, post)), button(texts.edit(), cb(Action.EDIT, post))],
        [button(texts.regenerate(), cb(Action.REGENERATE, post))],
    ]
    return "\n".join(lines), with_nav(rows, cb(Action.DETAILS, post))


def edit_text(post: Any) -> Screen:
    current = f"\n\n<code>{escape_html(post.text)}</code>" if post.text else ""
    return texts.send_new_text() + current, with_nav([], cb(Action.EDIT_MORE, post))


def generation_failed(post: Any, cause: str) -> Screen:
    rows = [[button(texts.try_again(), cb(Action.RETRY_GENERATION, post))]]
    return texts.generation_failed(escape_html(cause)), with_nav(rows, cb(Action.DETAILS, post))


def media(post: Any) -> Screen:
    labels = texts.MEDIA_LABELS
    rows = [
        [
            button(labels["photo"], cb(Action.MEDIA, post, "photo")),
            button(labels["video"], cb(Action.MEDIA, post, "video")),
        ],
        [
            button(labels["animation"], cb(Action.MEDIA, post, "animation")),
            button(labels["none"], cb(Action.MEDIA, post, "none")),
        ],
    ]
    return texts.add_media(), with_nav(rows, cb(Action.EDIT_MORE, post))


def media_upload(post: Any, kind: str) -> Screen:
    return texts.send_media(str(texts.MEDIA_NAMES[kind])), with_nav([], cb(Action.BACK_TO_MEDIA, post))


def preview_actions(post: Any) -> Screen:
    rows = [
        [
            button(texts.publish_now(), cb(Action.PUBLISH, post)),
            button(texts.schedule(), cb(Action.SCHEDULE, post)),
        ],
        [
            button(texts.edit_more(), cb(Action.EDIT_MORE, post)),
            button(texts.delete(), cb(Action.DELETE, post)),
        ],
    ]
    return texts.preview_title(), with_nav(rows, cb(Action.BACK_TO_MEDIA, post))


def draft_actions(post: Any) -> Screen:
    rows = [
        [
            button(texts.publish(), cb(Action.PUBLISH, post)),
            button(texts.schedule(), cb(Action.SCHEDULE, post)),
        ],
        [button(texts.edit(), cb(Action.EDIT_MORE, post)), button(texts.delete(), cb(Action.DELETE, post))],
    ]
    return texts.draft_title(format_label(post.format)), with_nav(rows, cb(Action.DRAFTS, arg="1"))


def local(moment: dt.datetime, zone: str) -> dt.datetime:
    return moment.astimezone(zoneinfo.ZoneInfo(zone))


def when(moment: dt.datetime, zone: str) -> str:
    return local(moment, zone).strftime("%d.%m.%Y %H:%M")


def scheduled_actions(post: Any, zone: str) -> Screen:
    rows = [
        [
            button(texts.publish_now(), cb(Action.PUBLISH, post)),
            button(texts.reschedule(), cb(Action.SCHEDULE, post)),
        ],
        [button(texts.cancel_schedule(), cb(Action.UNSCHEDULE, post))],
    ]
    title = texts.scheduled_post_title(when(post.scheduled_at, zone), zone)
    return title, with_nav(rows, cb(Action.SCHEDULED, arg="1"))


def calendar(post: Any, *, today: dt.date, year: int, month: int, zone: str) -> Screen:
    cal = calendar_keyboard(
        year=year,
        month=month,
        today=today,
        prefix=calendar_prefix(post),
        max_date=today + dt.timedelta(days=SCHEDULE_DAYS_AHEAD),
    )
    back = cb(Action.SCHEDULED_POST, post) if post.status == "scheduled" else cb(Action.PREVIEW, post)
    rows = [list(row) for row in cal.inline_keyboard]
    return texts.pick_day(zone), with_nav(rows, back)


def time_picker(post: Any, *, day: dt.date, now_local: dt.datetime, zone: str) -> Screen:
    slots = [
        slot
        for slot in default_time_slots()
        if dt.datetime.combine(day, slot) > now_local.replace(tzinfo=None)
    ]
    picker = time_picker_keyboard(slots=slots, prefix=time_prefix(post)) if slots else keyboard([])
    rows = [list(row) for row in picker.inline_keyboard]
    return texts.pick_time(day.strftime("%d.%m.%Y"), zone), with_nav(rows, cb(Action.SCHEDULE, post))


def post_label(post: Any, zone: str) -> str:
    emoji = format_label(post.format).split(" ")[0]
    head = (post.text or post.keywords or "").strip().replace("\n", " ")
    head = head[:28] + ("…" if len(head) > 28 else "")
    if post.status == "scheduled" and post.scheduled_at:
        return f"{emoji} {local(post.scheduled_at, zone):%d.%m %H:%M} {head}"
    return f"{emoji} {head or texts.no_text_yet()}"


def post_list(
    posts: Sequence[Any], *, page: int, pages: int, title: str, open_action: str, page_action: str, zone: str
) -> Screen:
    rows: Rows = [[button(post_label(post, zone), cb(open_action, post))] for post in posts]
    arrows = []
    if page > 1:
        arrows.append(button(texts.previous_page(), cb(page_action, arg=str(page - 1))))
    if page < pages:
        arrows.append(button(texts.next_page(), cb(page_action, arg=str(page + 1))))
    if arrows:
        rows.append(arrows)
    return title, with_nav(rows, cb(Action.MENU))


def analytics_menu() -> Screen:
    rows = [
        [button(texts.daily(), cb(Action.DAILY)), button(texts.weekly(), cb(Action.WEEKLY))],
        [button(texts.top_posts(), cb(Action.TOP)), button(texts.formats(), cb(Action.FORMATS))],
        [button(texts.export(), cb(Action.EXPORT))],
    ]
    return texts.analytics_title(), with_nav(rows, cb(Action.MENU))


def analytics_result(text: str) -> Screen:
    return text, with_nav([], cb(Action.ANALYTICS))


def export_menu() -> Screen:
    rows = [
        [
            button(texts.export_csv("posts"), cb(Action.EXPORT_AS, arg="csv.posts")),
            button(texts.export_csv("events"), cb(Action.EXPORT_AS, arg="csv.events")),
            button(texts.export_csv("summary"), cb(Action.EXPORT_AS, arg="csv.summary")),
        ],
        [
            button("📋 JSON", cb(Action.EXPORT_AS, arg="json")),
            button("📈 Excel (XLSX)", cb(Action.EXPORT_AS, arg="xlsx")),
        ],
    ]
    return texts.export_title(), with_nav(rows, cb(Action.ANALYTICS))


def settings_menu(studio: Studio) -> Screen:
    title = texts.settings_title(
        texts.POST_LANGUAGE_LABELS.get(studio.language, studio.language),
        studio.timezone,
        format_label(studio.default_format),
        texts.POST_LANGUAGE_LABELS.get(studio.interface_language, studio.interface_language),
        studio.editors.count(),
    )
    rows = [
        [
            button(texts.post_language(), cb(Action.SET_LANGUAGE)),
            button(texts.timezone_label(), cb(Action.SET_TIMEZONE)),
        ],
        [
            button(texts.default_format(), cb(Action.SET_FORMAT)),
            button(texts.interface_language(), cb(Action.SET_UI_LANGUAGE)),
        ],
        [button(texts.editors_label(), cb(Action.EDITORS))],
    ]
    return title, with_nav(rows, cb(Action.MENU))


def language_choice(action: str, current: str) -> Screen:
    rows = [
        [
            button(("• " if code == current else "") + label, cb(action, arg=code))
            for code, label in texts.POST_LANGUAGE_LABELS.items()
        ]
    ]
    return texts.choose_language(), with_nav(rows, cb(Action.SETTINGS))


def timezone_choice(current: str) -> Screen:
    buttons = [
        button(("• " if zone == current else "") + zone, cb(Action.SET_TIMEZONE, arg=zone))
        for zone in texts.TIMEZONE_PRESETS
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return texts.choose_timezone(), with_nav(rows, cb(Action.SETTINGS))


def format_choice(current: str) -> Screen:
    buttons = [
        button(("• " if fmt == current else "") + format_label(fmt), cb(Action.SET_FORMAT, arg=fmt))
        for fmt in texts.FORMAT_LABELS
    ]
    return texts.choose_format(), with_nav([buttons[:2], buttons[2:]], cb(Action.SETTINGS))


def editors(studio: Studio, names: dict[int, str]) -> Screen:
    rows: Rows = []
    lines = [texts.editors_title(), ""]
    for editor in studio.editors.all():
        name = escape_html(names.get(editor.telegram_user_id, ""))
        crown = "👑 " if editor.is_admin else ""
        lines.append(f"{crown}<code>{editor.telegram_user_id}</code> {name}".rstrip())
        rows.append(
            [
                button(
                    f"{'👑' if editor.is_admin else '👤'} {editor.telegram_user_id}",
                    cb(Action.EDITOR_ADMIN, arg=str(editor.telegram_user_id)),
                ),
                button("🗑️", cb(Action.EDITOR_REMOVE, arg=str(editor.telegram_user_id))),
            ]
        )
    rows.append([button(texts.add_editor(), cb(Action.EDITOR_ADD))])
    return "\n".join(lines), with_nav(rows, cb(Action.SETTINGS))


def editor_add() -> Screen:
    return texts.enter_editor_id(), with_nav([], cb(Action.EDITORS))


def help_screen() -> Screen:
    return texts.help_text(), with_nav([], cb(Action.MENU))


def editor_names(studio: Studio, ids: Sequence[int]) -> dict[int, str]:
    from herald.bots.models import BotUser

    users = BotUser.objects.filter(bot_id=studio.bot_id, chat_id__in=list(ids))
    return {u.chat_id: (f"@{u.username}" if u.username else u.full_name) for u in users}


def is_admin(editor: StudioEditor) -> bool:
    return bool(editor.is_admin)


__all__ = ["Screen", "_"]
