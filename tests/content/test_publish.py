"""Publishing through the gateway into a sandbox channel: what the channel shows, what a failure leaves
behind (Telegram's own words, an automatic retry), and a post published once however many workers wake."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from herald.bots.models import TelegramBot
from herald.content import services
from herald.content.models import Destination, Post, PostEvent, PostStatus, TrackedLink
from herald.content.signals import post_publish_failed, post_published
from herald.telegram.models import OutboundMessage
from herald.telegram.sandbox import services as sandbox
from tests.content.conftest import EDITOR
from tests.telegram.gateway_fixtures import drain_outbox, tiny_png
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_channel, sandbox_messages, sandbox_user

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "🔥 Ամառային զեղչեր մինչև 50% <բոլոր> կոշիկների վրա & պայուսակների"
SHOP = "https://shop.example.am/sale?utm=tg&x=1"


def uploaded_photo(bot: SandboxBot) -> str:
    """The editor sends the bot a photo; its Telegram file id, as the studio keeps it."""
    editor = sandbox_user("Editor", username="editor")
    sandbox.sandbox_user_send(
        bot=sandbox.sandbox_bot_get(bot=bot.username),
        from_user=sandbox.sandbox_user_get(user_id=editor),
        upload=SimpleUploadedFile("sale.png", tiny_png(), content_type="image/png"),
        media_type="photo",
    )
    media = sandbox_messages(editor, bot)[-1]["media"]
    assert media is not None
    return str(media["file_id"])


def ready_post(destination: Destination, **fields: Any) -> Post:
    post = services.post_create_draft(
        destination=destination, author_telegram_id=EDITOR, format="selling", language="hy"
    )
    return services.post_update(post=post, **{"text": TEXT, **fields})


class Heard:
    def __init__(self) -> None:
        self.published: list[Post] = []
        self.failed: list[tuple[Post, str, bool]] = []

    def on_published(self, post: Post, **_: Any) -> None:
        self.published.append(post)

    def on_failed(self, post: Post, error: str, will_retry: bool, **_: Any) -> None:
        self.failed.append((post, error, will_retry))


@pytest.fixture
def heard() -> Any:
    listener = Heard()
    post_published.connect(listener.on_published, dispatch_uid="test-published")
    post_publish_failed.connect(listener.on_failed, dispatch_uid="test-publish-failed")
    yield listener
    post_published.disconnect(dispatch_uid="test-published")
    post_publish_failed.disconnect(dispatch_uid="test-publish-failed")


def test_publish_now_puts_photo_caption_and_tracked_buttons_in_the_channel(
    publishing: str, studio_bot: SandboxBot, destination: Destination, channel_id: int, heard: Heard
) -> None:
    post = ready_post(
        destination,
        media_kind="photo",
        media_file_id=uploaded_photo(studio_bot),
        links=[{"text": "🛍 Shop", "url": SHOP}, {"text": "Map", "url": "https://maps.example.am/x"}],
    )
    services.post_publish_now(post=post)

    [message] = sandbox_messages(channel_id)
    assert message["media"]["type"] == "photo"
    assert message["caption"] == TEXT  # escaped for HTML on the way, shown as typed
    buttons = [row[0] for row in message["reply_markup"]["inline_keyboard"]]
    assert [b["text"] for b in buttons] == ["🛍 Shop", "Map"]
    codes = [b["url"].removeprefix(f"{publishing}/r/") for b in buttons]
    assert [TrackedLink.objects.get(code=c).url for c in codes] == [SHOP, "https://maps.example.am/x"]

    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert post.channel_message_ids == [message["message_id"]]
    assert post.published_at is not None
    assert [p.pk for p in heard.published] == [post.pk]
    assert PostEvent.objects.filter(post=post, kind="published").count() == 1


def test_text_too_long_for_a_caption_goes_as_media_then_text_with_the_buttons(
    publishing: str, studio_bot: SandboxBot, destination: Destination, channel_id: int
) -> None:
    long_text = "\n\n".join(f"Կետ {n}: " + "զեղչ " * 40 for n in range(8))  # ~1700 characters
    post = ready_post(
        destination,
        text=long_text,
        media_kind="photo",
        media_file_id=uploaded_photo(studio_bot),
        links=[{"text": "Shop", "url": SHOP}],
    )
    services.post_publish_now(post=post)

    media, text = sandbox_messages(channel_id)
    assert media["media"]["type"] == "photo" and media["caption"] == ""
    assert media["reply_markup"] is None
    assert text["text"] == long_text.strip()
    assert text["reply_markup"]["inline_keyboard"][0][0]["text"] == "Shop"
    post.refresh_from_db()
    assert post.channel_message_ids == [media["message_id"], text["message_id"]]


def test_a_text_post_is_sent_as_a_message(publishing: str, destination: Destination, channel_id: int) -> None:
    services.post_publish_now(post=ready_post(destination))
    [message] = sandbox_messages(channel_id)
    assert message["text"] == TEXT
    assert message["media"] is None and message["reply_markup"] is None


def test_a_failed_publish_keeps_the_post_with_telegrams_words_and_a_retry(
    publishing: str,
    settings: SettingsWrapper,
    studio_bot: SandboxBot,
    hosted_bot: TelegramBot,
    heard: Heard,
) -> None:
    settings.CONTENT_PUBLISH_RETRY_SECONDS = 2
    not_admin = sandbox_channel("Other shop", admins=[])
    destination = services.destination_for_telegram_chat(bot=hosted_bot, chat_id=not_admin)
    post = ready_post(destination)
    before = timezone.now()
    services.post_publish_now(post=post)

    post.refresh_from_db()
    assert post.status == PostStatus.FAILED
    assert post.text == TEXT  # nothing lost
    calls = sandbox.sandbox_calls(bot=sandbox.sandbox_bot_get(bot=studio_bot.username))
    telegram_said = calls[-1]["description"]
    assert telegram_said.startswith("Forbidden: bot is not a member")
    assert telegram_said and post.last_error == telegram_said  # Telegram's own words
    assert post.next_retry_at is not None
    assert 1 <= (post.next_retry_at - before).total_seconds() <= 4
    assert [(p.pk, error, will_retry) for p, error, will_retry in heard.failed] == [
        (post.pk, telegram_said, True)
    ]
    assert sandbox_messages(not_admin) == []

    # The owner makes the bot an administrator; the automatic retry publishes the post.
    sandbox.sandbox_chat_get(chat_id=not_admin).admins.add(sandbox.sandbox_bot_get(bot=studio_bot.username))
    sandbox.sandbox_forget_process_state()
    assert services.posts_due_sweep() == 0  # the retry is not due yet: nothing is sent early
    assert Post.objects.get(pk=post.pk).status == PostStatus.FAILED
    time.sleep(2.1)
    services.posts_due_sweep()
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert post.publish_attempts == 2
    assert len(sandbox_messages(not_admin)) == 1


def test_automatic_retries_are_bounded_then_the_editor_retries(
    publishing: str, settings: SettingsWrapper, studio_bot: SandboxBot, hosted_bot: TelegramBot
) -> None:
    settings.CONTENT_PUBLISH_RETRY_SECONDS = 0
    settings.CONTENT_PUBLISH_MAX_ATTEMPTS = 3
    not_admin = sandbox_channel("Other shop", admins=[])
    destination = services.destination_for_telegram_chat(bot=hosted_bot, chat_id=not_admin)
    post = ready_post(destination)
    services.post_publish_now(post=post)  # retries at once (eager tasks, no delay): 3 attempts in all
    for _ in range(5):
        services.posts_due_sweep()
    post.refresh_from_db()
    assert (post.status, post.publish_attempts, post.next_retry_at) == (PostStatus.FAILED, 3, None)
    assert PostEvent.objects.filter(post=post, kind="failed").count() == 3

    sandbox.sandbox_chat_get(chat_id=not_admin).admins.add(sandbox.sandbox_bot_get(bot=studio_bot.username))
    sandbox.sandbox_forget_process_state()
    services.post_publish_now(post=post)  # the editor's Retry button
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert len(sandbox_messages(not_admin)) == 1


def test_a_scheduled_post_is_published_once_when_two_workers_wake_for_it(
    gateway: str, settings: SettingsWrapper, destination: Destination, channel_id: int
) -> None:
    settings.HERALD_PUBLIC_URL = gateway
    post = ready_post(destination)
    post = services.post_schedule(post=post, at=timezone.now() + dt.timedelta(seconds=1))
    time.sleep(1.05)
    barrier = threading.Barrier(2)
    results: list[Post | None] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(services.post_publish(post_id=post.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain_outbox()
    assert sorted(r is None for r in results) == [False, True]  # one claimed it, the other found nothing
    assert OutboundMessage.objects.filter(reference=f"post:{post.pk}").count() == 1
    assert len(sandbox_messages(channel_id)) == 1
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    late = PostEvent.objects.get(post=post, kind="published").data["late_seconds"]
    assert 0 <= late < 5
    # a wake-up after the fact (a restarted worker, the sweeper) does nothing
    assert services.post_publish(post_id=post.pk) is None
    services.posts_due_sweep()
    drain_outbox()
    assert len(sandbox_messages(channel_id)) == 1


def test_a_scheduled_post_is_not_published_early(
    publishing: str, destination: Destination, channel_id: int
) -> None:
    post = services.post_schedule(post=ready_post(destination), at=timezone.now() + dt.timedelta(minutes=5))
    assert services.post_publish(post_id=post.pk) is None  # an early wake-up
    services.posts_due_sweep()  # arms, publishes nothing
    assert sandbox_messages(channel_id) == []
    assert Post.objects.get(pk=post.pk).status == PostStatus.SCHEDULED


def test_a_lost_wake_up_is_picked_up_by_the_sweep(
    gateway: str, settings: SettingsWrapper, destination: Destination, channel_id: int
) -> None:
    settings.HERALD_PUBLIC_URL = gateway
    post = services.post_schedule(post=ready_post(destination), at=timezone.now() + dt.timedelta(seconds=1))
    time.sleep(1.05)  # no worker ran: its wake-up is lost
    from tests.telegram.gateway_fixtures import celery_app

    celery_app.conf.task_always_eager = True
    try:
        assert services.posts_due_sweep() >= 1
    finally:
        celery_app.conf.task_always_eager = False
    assert [m["text"] for m in sandbox_messages(channel_id)] == [TEXT]
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHED
