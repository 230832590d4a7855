"""Analytics from inside the chat: daily, weekly with its chart, top posts, by format, and exports sent as
Telegram documents; reactions in the channel arrive as message_reaction_count updates."""

from __future__ import annotations

import csv
import io
import json

import httpx
import openpyxl
import pytest

from herald.content.models import Post, PostReactions
from herald.studio.models import AuditEntry
from herald.telegram.sandbox import services as sandbox
from tests.studio.conftest import StudioWorld, settle
from tests.studio.test_new_post import write_post

pytestmark = pytest.mark.django_db(transaction=True)


def publish_one(world: StudioWorld) -> Post:
    write_post(world)
    world.admin.press("✅ Approve")
    world.admin.press("🚫 No media")
    world.admin.press("✅ Publish now")
    return Post.objects.get()


def test_reactions_clicks_analytics_and_exports(world: StudioWorld, telegram: str) -> None:
    post = publish_one(world)
    (channel_post,) = world.channel()
    # readers react in the channel; Telegram sends the bot the counts
    sandbox.sandbox_react(
        bot=sandbox.sandbox_bot_get(bot=world.bot.username),
        chat=sandbox.sandbox_chat_get(chat_id=world.channel_id),
        message_id=channel_post["message_id"],
        reactions={"👍": 3, "🔥": 2},
    )
    settle()
    assert {r.emoji: r.count for r in PostReactions.objects.filter(post=post)} == {"👍": 3, "🔥": 2}
    # a reader clicks the post's link button (a tracked link)
    url = channel_post["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert httpx.get(url, follow_redirects=False).status_code == 302

    ann = world.admin
    ann.write("/analytics")
    assert {"📅 Daily", "📊 Weekly", "🏆 Top Posts", "📈 Formats", "📄 Export"} <= set(ann.buttons())
    ann.press("📅 Daily")
    daily = ann.last()["text"]
    assert "Posts published: 1" in daily and "Link clicks: 1" in daily and "Reactions: 5" in daily
    assert "view counts" in daily  # said, instead of showing zeros
    ann.press("⬅️ Back")
    ann.press("🏆 Top Posts")
    assert "· 1 · 5" in ann.last()["text"]
    ann.press("⬅️ Back")
    ann.press("📈 Formats")
    assert "🔥 Selling: 1 · 1 · 5" in ann.last()["text"]
    ann.press("⬅️ Back")
    ann.press("📊 Weekly")
    chart = ann.last()
    assert chart["media"]["type"] == "photo" and "Weekly statistics" in chart["caption"]

    ann.press("⬅️ Back", chart)
    ann.press("📄 Export")
    ann.press("📝 Posts (CSV)")
    doc = ann.last()
    assert doc["media"]["type"] == "document" and "-posts-" in doc["media"]["file_name"]
    assert doc["media"]["file_name"].endswith(".csv")
    body = httpx.get(f"{telegram}{doc['media']['url']}").content
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel opens it
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["text"] == post.text

    ann.press("⬅️ Back", doc)
    ann.press("📄 Export")
    ann.press("📋 JSON")
    data = json.loads(httpx.get(f"{telegram}{ann.last()['media']['url']}").content)
    assert len(data["posts"]) == 1
    ann.press("⬅️ Back")
    ann.press("📄 Export")
    ann.press("📈 Excel")
    book = openpyxl.load_workbook(io.BytesIO(httpx.get(f"{telegram}{ann.last()['media']['url']}").content))
    assert {"posts", "events", "summary"} <= {name.lower() for name in book.sheetnames}
    sent = AuditEntry.objects.filter(action="export.sent").values_list("detail__format", flat=True)
    assert sorted(sent) == ["csv.posts", "json", "xlsx"]
