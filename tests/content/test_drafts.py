"""An editor's drafts: created empty, filled step by step, scheduled, unscheduled and deleted; what the
studio's buttons run into when the post moved on meanwhile."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from herald.bots.models import TelegramBot
from herald.content import selectors, services
from herald.content.models import Destination, MediaKind, Post, PostStatus
from herald.core.errors import Conflict, InvalidInput, NotFound
from tests.content.conftest import EDITOR

pytestmark = pytest.mark.django_db


def draft(destination: Destination, text: str = "Ամառային զեղչեր 50%") -> Post:
    post = services.post_create_draft(
        destination=destination, author_telegram_id=EDITOR, format="selling", language="hy"
    )
    return services.post_update(post=post, keywords="summer sale", text=text, text_source="ai")


def test_a_new_draft_is_empty_and_keeps_every_step(destination: Destination) -> None:
    post = services.post_create_draft(
        destination=destination, author_telegram_id=EDITOR, format="promo", language="hy"
    )
    assert (post.status, post.format, post.text, post.version) == (PostStatus.DRAFT, "promo", "", 0)
    post = services.post_update(post=post, keywords="shoes, bags")
    post = services.post_update(post=post, details="until Sunday")
    post = services.post_update(
        post=post,
        text="Կոշիկներ և պայուսակներ",
        media_kind="photo",
        media_file_id="AgACAgIAAxkBAAI",
        media_file_size=300_000,
        links=[{"text": "Shop", "url": "https://shop.example.am/sale"}],
    )
    stored = Post.objects.get(pk=post.pk)
    assert (stored.keywords, stored.details, stored.media_kind) == ("shoes, bags", "until Sunday", "photo")
    assert stored.links == [{"text": "Shop", "url": "https://shop.example.am/sale"}]
    assert stored.version == 3


def test_an_edit_from_a_stale_screen_is_refused(destination: Destination) -> None:
    post = draft(destination)
    stale = Post.objects.get(pk=post.pk)
    services.post_update(post=post, text="first edit")
    with pytest.raises(Conflict, match="changed meanwhile"):
        services.post_update(post=stale, text="second edit from an old screen")
    assert Post.objects.get(pk=post.pk).text == "first edit"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"format": "poem"}, "format"),
        ({"language": "de"}, "language"),
        ({"text": "x" * 4097}, "text"),
        ({"status": "published"}, "status"),
        ({"links": [{"text": "Shop", "url": "javascript:alert(1)"}]}, "links[0]"),
        ({"links": "https://example.com"}, "links"),
        ({"media_kind": "photo"}, "media_file_id"),
        (
            {"media_kind": "photo", "media_file_id": "AgAC", "media_file_size": 11 * 1024 * 1024},
            "media_file_size",
        ),
        (
            {"media_kind": "video", "media_file_id": "BAAC", "media_file_size": 51 * 1024 * 1024},
            "media_file_size",
        ),
    ],
)
def test_bad_fields_are_refused_naming_the_field(
    destination: Destination, fields: dict[str, object], field: str
) -> None:
    post = draft(destination)
    with pytest.raises(InvalidInput) as refused:
        services.post_update(post=post, **fields)
    assert refused.value.details["field"] == field
    assert Post.objects.get(pk=post.pk).version == post.version  # nothing half-written


def test_no_media_clears_the_file(destination: Destination) -> None:
    post = services.post_update(post=draft(destination), media_kind="animation", media_file_id="CgAC")
    post = services.post_update(post=post, media_kind=MediaKind.NONE)
    assert (post.media_file_id, post.media_file_size) == ("", None)


def test_a_schedule_in_the_past_is_refused(destination: Destination) -> None:
    post = draft(destination)
    with pytest.raises(InvalidInput, match="in the past") as refused:
        services.post_schedule(post=post, at=timezone.now() - dt.timedelta(minutes=1))
    assert refused.value.details["field"] == "at"
    with pytest.raises(InvalidInput, match="time zone"):
        services.post_schedule(post=post, at=dt.datetime(2099, 1, 1, 10, 0))
    assert Post.objects.get(pk=post.pk).status == PostStatus.DRAFT


def test_an_empty_post_cannot_be_scheduled_or_published(destination: Destination) -> None:
    post = services.post_create_draft(
        destination=destination, author_telegram_id=EDITOR, format="info", language="hy"
    )
    with pytest.raises(InvalidInput, match="empty"):
        services.post_schedule(post=post, at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(InvalidInput, match="empty"):
        services.post_publish_now(post=post)


def test_schedule_reschedule_and_cancel(destination: Destination) -> None:
    post = draft(destination)
    yerevan = dt.timezone(dt.timedelta(hours=4))
    at = (timezone.now() + dt.timedelta(days=1)).astimezone(yerevan).replace(microsecond=0)
    post = services.post_schedule(post=post, at=at)
    assert post.status == PostStatus.SCHEDULED
    assert post.scheduled_at == at
    post = services.post_schedule(post=post, at=at + dt.timedelta(hours=2))  # reschedule
    assert post.scheduled_at == at + dt.timedelta(hours=2)
    post = services.post_update(post=post, text="still editable while scheduled")
    assert post.status == PostStatus.SCHEDULED
    post = services.post_unschedule(post=post)
    assert (post.status, post.scheduled_at) == (PostStatus.DRAFT, None)
    with pytest.raises(Conflict):
        services.post_unschedule(post=post)


def test_deleting_a_draft_removes_it_and_stale_buttons_find_nothing(destination: Destination) -> None:
    post = draft(destination)
    services.post_delete(post=post)
    assert not Post.objects.filter(pk=post.pk).exists()
    with pytest.raises(NotFound, match="no longer exists"):
        selectors.post_get(post_id=post.pk)
    with pytest.raises(NotFound):
        services.post_update(post=post, text="too late")
    with pytest.raises(NotFound):
        services.post_schedule(post=post, at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(NotFound):
        services.post_delete(post=post)


def test_a_published_post_is_no_longer_editable(destination: Destination) -> None:
    post = draft(destination)
    Post.objects.filter(pk=post.pk).update(status=PostStatus.PUBLISHED)
    post.refresh_from_db()
    with pytest.raises(Conflict, match="already published"):
        services.post_update(post=post, text="changed")
    with pytest.raises(Conflict, match="already published"):
        services.post_delete(post=post)
    with pytest.raises(Conflict, match="already published"):
        services.post_publish_now(post=post)


def test_drafts_and_scheduled_lists_are_paginated(destination: Destination) -> None:
    drafts = [draft(destination, text=f"draft {n}") for n in range(7)]
    base = timezone.now() + dt.timedelta(hours=1)
    for n, post in enumerate(drafts[:3]):
        services.post_schedule(post=post, at=base + dt.timedelta(minutes=10 * (3 - n)))
    first = selectors.posts_for(destination=destination, status="draft", page=1, per_page=3)
    assert first.paginator.count == 4
    assert [p.text for p in first] == ["draft 6", "draft 5", "draft 4"]
    assert [
        p.text for p in selectors.posts_for(destination=destination, status="draft", page=9, per_page=3)
    ] == ["draft 3"]
    scheduled = selectors.posts_for(destination=destination, status="scheduled", page=1, per_page=5)
    assert [p.text for p in scheduled] == ["draft 2", "draft 1", "draft 0"]  # soonest first
    with pytest.raises(InvalidInput):
        selectors.posts_for(destination=destination, status="lost", page=1, per_page=5)


def test_a_destination_is_found_again_by_its_id_or_username(hosted_bot: TelegramBot, channel_id: int) -> None:
    by_name = services.destination_for_telegram_chat(bot=hosted_bot, chat_id="@timetoshopping")
    assert (by_name.chat_id, by_name.username) == ("@timetoshopping", "timetoshopping")
    by_id = services.destination_for_telegram_chat(
        bot=hosted_bot, chat_id=channel_id, username="timetoshopping", title="Time to Shopping"
    )
    assert by_id.pk == by_name.pk
    assert by_id.chat_id == str(channel_id)
    with pytest.raises(InvalidInput):
        services.destination_for_telegram_chat(bot=hosted_bot, chat_id="not a channel")
    with pytest.raises(InvalidInput, match="time zone"):
        services.destination_for_telegram_chat(bot=hosted_bot, chat_id=channel_id, timezone="Mars/Olympus")
