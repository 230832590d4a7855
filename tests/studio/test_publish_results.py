"""What the editor hears about a publication (posted, or Telegram's own error with Retry), media refused
plainly, a button drawn before the post changed, and the admin pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from herald.content import services as content_services
from herald.content.models import Post, PostStatus
from herald.studio.models import AuditEntry
from herald.telegram.sandbox.models import Chat
from herald.telegram.sandbox.services import sandbox_forget_process_state
from tests.factories import UserFactory
from tests.studio.conftest import StudioWorld
from tests.studio.test_new_post import write_post

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_failed_publish_shows_telegrams_error_and_retry_publishes(
    world: StudioWorld, settings: SettingsWrapper
) -> None:
    settings.CONTENT_PUBLISH_MAX_ATTEMPTS = 1  # no automatic retry: the editor's button is the retry
    ann = world.admin
    write_post(world, details=None)
    ann.press("✅ Approve")
    ann.press("🚫 No media")
    channel = Chat.objects.get(id=world.channel_id)
    bot = channel.admins.get()
    channel.admins.remove(bot)  # someone took the bot's admin rights away
    sandbox_forget_process_state()
    ann.press("✅ Publish now")
    failed = ann.last()
    assert "Publish failed" in failed["text"] and "Forbidden" in failed["text"]  # Telegram's own words
    assert {"🔄 Retry", "✏️ Edit more", "🏠 Main menu"} == set(ann.buttons(failed))
    post = Post.objects.get()
    assert post.status == PostStatus.FAILED and world.channel() == []
    assert AuditEntry.objects.filter(action="post.publish_failed", post_id=post.pk).exists()

    channel.admins.add(bot)
    sandbox_forget_process_state()
    ann.press("🔄 Retry", failed)
    assert Post.objects.get().status == PostStatus.PUBLISHED and len(world.channel()) == 1
    assert "Posted to Time to Shopping" in ann.last()["text"]
    assert "t.me/timetoshopping/" in ann.last()["text"]


def test_media_of_the_wrong_kind_or_too_large_is_refused_plainly(
    world: StudioWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = world.admin
    write_post(world, details=None)
    ann.press("✅ Approve")
    ann.press("🎞️ GIF")
    assert "Send a GIF" in ann.last()["text"]
    ann.upload("photo")
    assert "That is a photo, not a GIF" in ann.last()["text"]
    limits: dict[Any, int] = content_services.MEDIA_MAX_BYTES
    monkeypatch.setitem(limits, "animation", 10)  # a tiny limit for the test
    ann.upload("animation", name="loop.gif")
    assert "This file is too large" in ann.last()["text"]
    assert Post.objects.get().media_kind == "none"
    monkeypatch.undo()
    ann.upload("animation", name="loop.gif")
    assert Post.objects.get().media_kind == "animation"
    assert ann.messages()[-2]["media"]["type"] == "animation"  # the preview
    assert AuditEntry.objects.filter(action="invalid_input", detail__reason="media too large").exists()


def test_a_button_drawn_before_the_post_changed_is_stale(world: StudioWorld) -> None:
    ann = world.admin
    write_post(world, details=None)
    ann.write("/drafts")
    ann.press("🔥")
    first_actions = ann.last()  # the draft's actions, drawn for this version of the post
    ann.write("/drafts")
    ann.press("🔥")
    ann.press("✏️ Edit")  # from the second copy: the review
    ann.press("✏️ Edit")
    ann.write("A text of my own")
    ann.press("✅ Publish", first_actions)
    notice = next(t for t in reversed(ann.texts()) if "out of date" in t)
    assert "the post changed since" in notice
    # the post's current screen follows the notice, and nothing was published
    assert ann.messages()[-2]["text"] == "A text of my own" and "Final preview" in ann.last()["text"]
    assert Post.objects.get().status == PostStatus.DRAFT and world.channel() == []
    assert AuditEntry.objects.filter(action="stale_button").exists()


def test_help_and_back_from_every_step(world: StudioWorld) -> None:
    ann = world.admin
    ann.write("/scheduled")
    assert "Nothing is scheduled" in ann.last()["text"] and {"⬅️ Back", "🏠 Main menu"} == set(ann.buttons())
    ann.write("/help")
    assert "/new" in ann.last()["text"] and {"⬅️ Back", "🏠 Main menu"} == set(ann.buttons())
    ann.press("⬅️ Back")
    assert "Main menu" in ann.last()["text"]
    write_post(world, details=None)
    ann.press("⬅️ Back")  # review -> details
    assert "Additional details" in ann.last()["text"]
    ann.press("⬅️ Back")  # details -> keywords
    assert "Enter keywords" in ann.last()["text"]
    ann.press("⬅️ Back")  # keywords -> format
    assert "Select the format" in ann.last()["text"]
    ann.press("💡 Info")  # the same draft, another format
    assert Post.objects.get().format == "info" and Post.objects.count() == 1
    ann.write("/start")
    ann.write("just some text")  # nothing asked for: the menu again
    assert "Use the buttons" in ann.last()["text"]


def test_the_admin_shows_studios_and_the_audit_log(world: StudioWorld, client: Client) -> None:
    world.outsider.write("/start")
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    for model in ("studio", "auditentry", "editorsession"):
        assert client.get(f"/admin/studio/{model}/").status_code == 200, model
    page = client.get("/admin/studio/auditentry/").content.decode()
    assert "unauthorized" in page
    from herald.studio.models import Studio

    studio = Studio.objects.get()
    change = client.get(f"/admin/studio/studio/{studio.pk}/change/")
    assert change.status_code == 200
    refused = client.post(
        f"/admin/studio/studio/{studio.pk}/change/",
        {
            "channel": "@nosuchchannel",
            "language": "hy",
            "timezone": "Asia/Yerevan",
            "default_format": "selling",
            "interface_language": "en",
            "editors-TOTAL_FORMS": "0",
            "editors-INITIAL_FORMS": "0",
        },
    )
    assert refused.status_code == 200 and "cannot find @nosuchchannel" in refused.content.decode()
    studio.refresh_from_db()
    assert studio.channel == "@timetoshopping"


def test_an_admin_turns_a_hosted_bot_into_a_studio_in_the_admin(world: StudioWorld, client: Client) -> None:
    from herald.bots.models import BotKind, TelegramBot
    from herald.studio.models import Studio
    from tests.telegram.sandbox.helpers import sandbox_bot, sandbox_channel

    deals = sandbox_bot("deals_studio_bot", "Deals studio")
    sandbox_channel("Deals", admins=[deals.username], username="dealsam")
    sandbox_channel("Elsewhere", admins=[], username="elsewhere")
    bot_id = world.api.post("/api/bots", {"name": "Deals", "token": deals.token}).json()["id"]
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    assert client.get("/admin/studio/studio/add/").status_code == 200
    form = {
        "bot": bot_id,
        "channel": "@elsewhere",
        "editors": "501, 502",
        "admins": "501",
        "language": "hy",
        "timezone": "Asia/Yerevan",
        "default_format": "promo",
        "interface_language": "ru",
    }
    refused = client.post("/admin/studio/studio/add/", form)
    assert refused.status_code == 200
    assert "@deals_studio_bot cannot post in @elsewhere" in refused.content.decode()
    assert TelegramBot.objects.get(pk=bot_id).kind == BotKind.FLOWS  # nothing saved
    assert client.post("/admin/studio/studio/add/", {**form, "admins": "501 x"}).status_code == 200
    saved = client.post("/admin/studio/studio/add/", {**form, "channel": "@dealsam"})
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    studio = Studio.objects.get(bot_id=bot_id)
    assert TelegramBot.objects.get(pk=bot_id).kind == BotKind.STUDIO
    assert (studio.channel, studio.default_format, studio.interface_language) == ("@dealsam", "promo", "ru")
    assert {(e.telegram_user_id, e.is_admin) for e in studio.editors.all()} == {(501, True), (502, False)}


def test_a_scheduled_post_published_at_its_time_is_reported_to_whoever_scheduled_it(
    world: StudioWorld,
) -> None:
    import datetime as dt

    from django.utils import timezone

    from tests.studio.test_schedule_and_lists import pick_day

    bob = world.editor
    bob.write("/new")
    bob.press("⚡ Promo")
    bob.write("Black Friday -30%")
    bob.press("⏭️ Skip")
    bob.press("✅ Approve")
    bob.press("🚫 No media")
    bob.press("🕒 Schedule")
    tomorrow = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=4))).date() + dt.timedelta(days=1)
    pick_day(bob, tomorrow)
    bob.press("09:00")
    post = Post.objects.get()
    assert post.status == PostStatus.SCHEDULED
    # the clock reaches the post's time; the every-minute sweep publishes it
    Post.objects.filter(pk=post.pk).update(scheduled_at=timezone.now() - dt.timedelta(seconds=1))
    content_services.posts_due_sweep()
    from tests.studio.conftest import settle

    settle()
    assert Post.objects.get().status == PostStatus.PUBLISHED and len(world.channel()) == 1
    assert "Posted to Time to Shopping" in bob.last()["text"]
    assert not any("Posted" in t for t in world.admin.texts())
