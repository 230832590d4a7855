"""The seed's security flow (whitelist on every update, unauthorized attempts logged and reported, a rate
limit with a temporary block, escaped text) and the settings: admins only, in the chat and the API."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from herald.bots.models import InboundUpdate, UpdateStatus
from herald.content.models import Post
from herald.studio.models import AuditEntry, Studio, StudioEditor
from tests.ai.conftest import AISandbox
from tests.studio.conftest import StudioWorld, settle
from tests.studio.test_new_post import write_post
from tests.telegram.sandbox.helpers import sandbox_bot, sandbox_channel

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_outsider_gets_nowhere_and_the_admins_hear_of_it(world: StudioWorld) -> None:
    eve = world.outsider
    eve.write("/start")
    assert eve.texts() == ["❌ Access denied. Contact the admin of this studio to be added as an editor."]
    assert eve.last()["reply_markup"] is None
    eve.write("/new")
    eve.write("<b>let me in</b>")
    assert eve.texts()[-1].startswith("❌ Access denied") and len(eve.texts()) == 3
    assert not Post.objects.exists()
    attempts = AuditEntry.objects.filter(action="unauthorized", telegram_user_id=eve.user_id)
    assert [a.detail["input"] for a in attempts.order_by("pk")] == ["/start", "/new", "<b>let me in</b>"]
    # the admin is told once (not at every attempt), the plain editor not at all
    reports = [t for t in world.admin.texts() if "Unauthorized attempt" in t]
    assert len(reports) == 1 and "Eve @eve" in reports[0] and "/start" in reports[0]
    assert not world.editor.messages()

    # removed from the whitelist, an editor's old buttons stop working too
    world.editor.write("/start")
    menu = world.editor.last()
    assert "🔧 Settings" not in world.editor.buttons(menu)  # not an admin
    StudioEditor.objects.filter(telegram_user_id=world.editor.user_id).delete()
    world.editor.press("📝 New Post", menu)
    assert world.editor.texts()[-1].startswith("❌ Access denied")


def test_an_editor_over_the_rate_limit_is_paused(world: StudioWorld, settings: SettingsWrapper) -> None:
    settings.STUDIO_RATE_BURST = 3
    settings.STUDIO_RATE_PER_MINUTE = 1
    bob = world.editor
    for _ in range(3):
        bob.write("/help")
    assert len(bob.texts()) == 3 and all("Help" in t for t in bob.texts())
    bob.write("/help")
    assert "Too many requests" in bob.texts()[-1] and "60 seconds" in bob.texts()[-1]
    bob.write("/help")  # paused: not answered
    assert len(bob.texts()) == 4
    assert StudioEditor.objects.get(telegram_user_id=bob.user_id).blocked_until is not None
    assert AuditEntry.objects.filter(action="rate_limited", telegram_user_id=bob.user_id).count() == 1
    assert any("exceeded the rate limit" in t for t in world.admin.texts())


def test_settings_are_for_admins_and_change_the_studio(world: StudioWorld) -> None:
    bob, ann = world.editor, world.admin
    bob.write("/settings")
    assert "Only the studio's admins" in bob.texts()[-1]
    assert AuditEntry.objects.filter(action="settings.denied", telegram_user_id=bob.user_id).exists()

    ann.write("/settings")
    screen = ann.last()["text"]
    assert "Language of posts: 🇦🇲 Հայերեն" in screen and "Timezone: Asia/Yerevan" in screen
    ann.press("🕐 Timezone")
    ann.write("Mars/Olympus")
    assert "is not a time zone" in ann.texts()[-1]
    ann.write("Europe/Moscow")
    studio = Studio.objects.get()
    assert studio.timezone == "Europe/Moscow" and studio.destination.timezone == "Europe/Moscow"
    ann.press("🌐 Language of posts")
    ann.press("🇷🇺 Русский")
    ann.press("🎯 Default format")
    ann.press("⚡ Promo")
    studio.refresh_from_db()
    assert (studio.language, studio.default_format) == ("ru", "promo")
    ann.press("👥 Editors")
    ann.press("➕ Add editor")
    ann.write("not a number")
    assert "not a Telegram user id" in ann.texts()[-1]
    ann.write("424242")
    assert StudioEditor.objects.filter(studio=studio, telegram_user_id=424242, is_admin=False).exists()
    ann.press(f"👤 {bob.user_id}")  # bob becomes an admin
    assert StudioEditor.objects.get(telegram_user_id=bob.user_id).is_admin
    ann.press(f"👑 {ann.user_id}")  # ann steps down: bob is still an admin
    assert not StudioEditor.objects.get(telegram_user_id=ann.user_id).is_admin
    bob.write("/settings")
    bob.press("👥 Editors")
    bob.press(f"👑 {bob.user_id}")  # the last admin cannot step down
    assert "at least one admin" in bob.texts()[-1]

    # the interface speaks Armenian once an admin says so
    bob.write("/settings")
    bob.press("🗣️ Interface language")
    bob.press("🇦🇲 Հայերեն")
    bob.write("/start")
    assert "Գլխավոր" in bob.last()["text"]  # the main menu, translated


def test_studio_settings_through_the_api_are_checked_with_telegram(world: StudioWorld) -> None:
    api, bot_id = world.api, world.bot_id
    shown = api.get(f"/api/bots/{bot_id}").json()
    assert shown["kind"] == "studio" and shown["settings"]["channel"] == "@timetoshopping"
    assert shown["settings"]["admins"] == [world.admin.user_id]

    other = sandbox_bot("other_bot")
    sandbox_channel("Elsewhere", admins=[other.username], username="elsewhere")

    def patch(studio: dict[str, Any]) -> Any:
        return api.patch(f"/api/bots/{bot_id}", {"studio": studio})

    refused = patch({"channel": "@elsewhere"})
    assert refused.status_code == 400 and refused.json()["code"] == "bot_cannot_post"
    assert "add it as an administrator" in refused.json()["message"]
    missing = patch({"channel": "@nosuchchannel"})
    assert missing.status_code == 400 and missing.json()["code"] == "channel_not_found"
    assert patch({"channel": "not a channel"}).json()["code"] == "invalid_channel"
    zone = patch({"timezone": "Mars/Olympus"})
    assert zone.status_code == 400 and "studio.timezone" in zone.json()["message"]
    assert patch({"admins": []}).json()["code"] == "no_admin"
    assert patch({"colour": "red"}).status_code == 400
    assert patch({"editors": ["x"]}).status_code == 400
    # nothing half-written: the studio is as it was
    studio = Studio.objects.get()
    assert (studio.channel, studio.timezone) == ("@timetoshopping", "Asia/Yerevan")
    assert sorted(StudioEditor.objects.values_list("telegram_user_id", flat=True)) == sorted(
        [world.admin.user_id, world.editor.user_id]
    )
    # a flows bot cannot take a studio block; once it becomes a studio, its webhook asks for reactions
    flows_bot = sandbox_bot("flows_bot")
    sandbox_channel("Second channel", admins=[flows_bot.username], username="secondchannel")
    flows = api.post("/api/bots", {"name": "Flows", "token": flows_bot.token}).json()["id"]
    assert api.post(f"/api/bots/{flows}/webhook").status_code == 200
    wrong = api.patch(f"/api/bots/{flows}", {"studio": {"channel": "@secondchannel"}})
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_kind"
    assert "message_reaction_count" not in api.get(f"/api/bots/{flows}/webhook").json()["allowed_updates"]
    became = api.patch(
        f"/api/bots/{flows}", {"kind": "studio", "studio": {"channel": "@secondchannel", "admins": [1]}}
    )
    assert became.status_code == 200 and became.json()["kind"] == "studio"
    assert "message_reaction_count" in api.get(f"/api/bots/{flows}/webhook").json()["allowed_updates"]

    ok = patch({"editors": [world.admin.user_id, 555], "admins": [world.admin.user_id], "language": "en"})
    assert ok.status_code == 200 and ok.json()["settings"]["editors"] == [world.admin.user_id, 555]
    assert not StudioEditor.objects.filter(telegram_user_id=world.editor.user_id).exists()


def test_when_the_ai_keeps_failing_the_editor_writes_the_text(
    world: StudioWorld, ai_sandbox: AISandbox
) -> None:
    ai_sandbox.control(mode="unauthorized")
    ann = world.admin
    write_post(world, details=None)
    failed = ann.last()
    assert failed["edited"] and "Generation failed" in failed["text"]
    assert {"🔄 Try again", "⬅️ Back", "🏠 Main menu"} == set(ann.buttons(failed))
    ann.write("Մեր սեփական տեքստը՝ Nike Air Max")
    post = Post.objects.get()
    assert post.text == "Մեր սեփական տեքստը՝ Nike Air Max" and post.text_source == "manual"
    assert "Add media" in ann.last()["text"]
    assert AuditEntry.objects.filter(action="post.generation_failed").exists()

    # and when the AI answers again, Regenerate asks it (no template warning then)
    ai_sandbox.control(mode="ok")
    ann.press("⬅️ Back")  # media -> review
    ann.press("🔄 Regenerate")
    review = ann.last()
    assert "Review the generated text" in review["text"] and "No AI service" not in review["text"]
    assert Post.objects.get().text_source == "ai"


def test_updates_and_generation_runs_of_a_studio_take_effect_once(world: StudioWorld) -> None:
    from herald.bots.processing import update_process
    from herald.studio.writer import post_generation_run
    from herald.telegram.models import OutboundMessage

    write_post(world, details=None)
    assert InboundUpdate.objects.filter(status=UpdateStatus.PROCESSED).count() >= 4
    before = [(m["text"], m["edited"]) for m in world.admin.messages()]
    for update in InboundUpdate.objects.all():
        update_process(update_pk=update.pk)  # a repeated task changes nothing
    writing = OutboundMessage.objects.get(reference__startswith="studio.writing:")
    session_pk, post_id, nonce = writing.reference.split(":")[1:]
    text = Post.objects.get().text
    post_generation_run(  # the generation task delivered twice
        session_pk=int(session_pk), post_id=int(post_id), nonce=nonce, message_id=writing.telegram_message_id
    )
    settle()
    assert [(m["text"], m["edited"]) for m in world.admin.messages()] == before
    assert Post.objects.get().text == text
