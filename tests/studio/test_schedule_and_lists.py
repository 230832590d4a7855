"""Scheduling (calendar, time picker or typed time, past refused, exact local time), the Drafts and Scheduled
lists with their actions, and stale buttons."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from herald.content.models import Post, PostStatus
from herald.telegram.sandbox import services as sandbox
from herald.telegram.sandbox.models import CallbackQuery
from tests.studio.conftest import EditorChat, StudioWorld
from tests.studio.test_new_post import write_post

pytestmark = pytest.mark.django_db(transaction=True)
YEREVAN = zoneinfo.ZoneInfo("Asia/Yerevan")


def to_preview_without_media(world: StudioWorld) -> None:
    write_post(world, details=None)
    world.admin.press("✅ Approve")
    world.admin.press("🚫 No media")


def pick_day(chat: EditorChat, day: dt.date) -> None:
    """Press ``day`` in the calendar, moving a month on if it is in the next one."""
    data = chat.buttons()
    wanted = [d for d in data.values() if d.endswith(f":d:{day:%Y%m%d}")]
    if not wanted:
        chat.press("»")
        data = chat.buttons()
        wanted = [d for d in data.values() if d.endswith(f":d:{day:%Y%m%d}")]
    chat.press_data(chat.messages()[-1]["message_id"], wanted[0])


def test_schedule_with_calendar_and_time_picker_confirms_the_local_time(world: StudioWorld) -> None:
    ann = world.admin
    to_preview_without_media(world)
    ann.press("🕒 Schedule")
    calendar = ann.last()
    assert "Select the date" in calendar["text"] and "Asia/Yerevan" in calendar["text"]
    today = timezone.now().astimezone(YEREVAN).date()
    days = ann.buttons(calendar)
    yesterday = today - dt.timedelta(days=1)
    assert not any(d.endswith(f":d:{yesterday:%Y%m%d}") for d in days.values())  # past days do nothing
    assert any(d.endswith(f":d:{today:%Y%m%d}") for d in days.values())

    # today, at a time already past: refused, asked again
    pick_day(ann, today)
    assert "Select the time" in ann.last()["text"]
    ann.write("00:00")
    assert "already passed" in ann.last()["text"]
    assert Post.objects.get().status == PostStatus.DRAFT

    ann.press("⬅️ Back")  # back to the calendar
    tomorrow = today + dt.timedelta(days=1)
    pick_day(ann, tomorrow)
    ann.press("10:00")
    post = Post.objects.get()
    assert post.status == PostStatus.SCHEDULED
    assert post.scheduled_at == dt.datetime.combine(tomorrow, dt.time(10, 0), tzinfo=YEREVAN)
    assert f"{tomorrow:%d.%m.%Y} 10:00 (Asia/Yerevan)" in ann.last()["text"]
    assert "Post scheduled" in ann.last()["text"]

    # Scheduled: the list, the post's preview and its actions; a typed time reschedules it
    ann.write("/scheduled")
    listing = ann.last()
    assert "Scheduled posts" in listing["text"]
    (label,) = [b for b in ann.buttons(listing) if "10:00" in b]
    ann.press(label)
    assert "Scheduled" in ann.last()["text"] and {
        "✅ Publish now",
        "🕒 Reschedule",
        "❌ Cancel schedule",
    } <= set(ann.buttons())
    ann.press("🕒 Reschedule")
    pick_day(ann, tomorrow)
    ann.write("18:30")
    assert Post.objects.get().scheduled_at == dt.datetime.combine(tomorrow, dt.time(18, 30), tzinfo=YEREVAN)
    assert f"{tomorrow:%d.%m.%Y} 18:30 (Asia/Yerevan)" in ann.last()["text"]

    ann.write("/scheduled")
    ann.press(next(b for b in ann.buttons() if "18:30" in b))
    ann.press("❌ Cancel schedule")
    assert "back in your drafts" in ann.last()["text"]
    assert Post.objects.get().status == PostStatus.DRAFT and world.channel() == []

    # from Scheduled, Publish now sends it at once
    ann.write("/drafts")
    ann.press(next(b for b in ann.buttons() if b.startswith("🔥")))
    ann.press("🕒 Schedule")
    pick_day(ann, tomorrow)
    ann.press("12:00")
    ann.write("/scheduled")
    ann.press(next(b for b in ann.buttons() if "12:00" in b))
    ann.press("✅ Publish now")
    assert Post.objects.get().status == PostStatus.PUBLISHED and len(world.channel()) == 1


def test_drafts_keep_what_was_typed_and_stale_buttons_get_a_notice(world: StudioWorld) -> None:
    ann = world.admin
    write_post(world)
    ann.write("/start")  # the editor walks away from the review
    post = Post.objects.get()
    assert post.status == PostStatus.DRAFT and post.text and post.keywords == "Nike Air Max, summer sale"

    ann.press("📋 Drafts")
    listing = ann.last()
    assert "Drafts" in listing["text"] and "page 1 of 1" in listing["text"]
    ann.press(next(b for b in ann.buttons(listing) if b.startswith("🔥")), listing)
    *_, shown, actions = ann.messages()
    assert shown["text"] == post.text  # the preview is the post as the channel will show it
    assert {"✅ Publish", "🕒 Schedule", "✏️ Edit", "❌ Delete"} <= set(ann.buttons(actions))

    ann.press("✏️ Edit", actions)  # back to the review of its text
    assert "Review the generated text" in ann.last()["text"]
    ann.press("✏️ Edit")
    ann.write("Our own text <script>alert(1)</script> & more")
    assert Post.objects.get().text == "Our own text <script>alert(1)</script> & more"
    assert "Add media" in ann.last()["text"]

    ann.write("/drafts")
    listing = ann.last()
    ann.press(next(b for b in ann.buttons(listing) if b.startswith("🔥")), listing)
    *_, shown, actions = ann.messages()
    assert shown["text"] == "Our own text <script>alert(1)</script> & more"  # escaped, shown as typed
    ann.press("❌ Delete", actions)
    assert "deleted" in ann.last()["text"] and not Post.objects.exists()

    # the list still shows the deleted draft's button: pressing it says so
    ann.press(next(b for b in ann.buttons(listing) if b.startswith("🔥")), listing)
    assert "no longer exists" in ann.last()["text"]
    ann.press("✅ Publish", actions)
    assert "no longer exists" in ann.last()["text"]
    # the press itself is answered with the notice as an alert (the client stops its spinner)
    press = CallbackQuery.objects.order_by("-created_at").first()
    assert press is not None
    answer = sandbox.sandbox_callback_answer(callback_query_id=press.id)
    assert answer["answered"] and answer["show_alert"] and "no longer exists" in answer["text"]
    assert world.channel() == []


def test_drafts_are_paginated(world: StudioWorld) -> None:
    ann = world.admin
    for n in range(7):
        ann.write("/new")
        ann.press("💡 Info")
        ann.write(f"topic {n}")
    ann.write("/drafts")
    first = ann.last()
    assert "page 1 of 2" in first["text"] and len([b for b in ann.buttons(first) if b.startswith("💡")]) == 5
    ann.press("»", first)
    second = ann.last()
    assert (
        "page 2 of 2" in second["text"] and len([b for b in ann.buttons(second) if b.startswith("💡")]) == 2
    )
    assert "«" in ann.buttons(second)
