"""New Post, the seed's main flow: format, keywords, details, AI text, review, media, preview, publish."""

from __future__ import annotations

import pytest

from herald.content.models import Post, PostStatus
from herald.studio.models import AuditEntry
from tests.studio.conftest import StudioWorld

pytestmark = pytest.mark.django_db(transaction=True)


def write_post(
    world: StudioWorld, *, details: str | None = "Price 45000 AMD, https://shop.example.com/nike"
) -> None:
    """Ann goes from /start to the review of a generated post."""
    ann = world.admin
    ann.write("/start")
    ann.press("📝 New Post")
    ann.press("🔥 Selling")
    ann.write("Nike Air Max, summer sale")
    if details is None:
        ann.press("⏭️ Skip")
    else:
        ann.write(details)


def test_editor_takes_a_post_from_new_post_to_the_channel(world: StudioWorld) -> None:
    ann = world.admin
    ann.write("/start")
    menu = ann.last()
    assert "Main menu" in menu["text"]
    assert list(ann.buttons(menu)) == [
        "📝 New Post",
        "📋 Drafts",
        "⏰ Scheduled",
        "📊 Analytics",
        "🔧 Settings",
        "ℹ️ Help",
    ]
    ann.press("📝 New Post")
    assert "Select the format" in ann.last()["text"]
    assert {"🔥 Selling (default)", "📝 Collection", "💡 Info", "⚡ Promo", "⬅️ Back", "🏠 Main menu"} == set(
        ann.buttons()
    )
    ann.press("🔥 Selling")
    assert "Enter keywords" in ann.last()["text"]
    post = Post.objects.get()
    assert post.status == PostStatus.DRAFT and post.format == "selling"  # saved from the first step

    ann.write("Nike Air Max <b>summer</b> sale")
    assert Post.objects.get().keywords == "Nike Air Max <b>summer</b> sale"
    assert "Additional details" in ann.last()["text"] and "⏭️ Skip" in ann.buttons()
    ann.write("Price 45000 AMD, https://shop.example.com/nike")

    # the "writing…" message became the review: the template writer's text and its warning
    review = ann.last()
    assert review["edited"] and "Review the generated text" in review["text"]
    assert "No AI service is configured" in review["text"]
    post = Post.objects.get()
    assert post.text and post.text in review["text"] and post.text_source == "template"
    assert {"✅ Approve", "✏️ Edit", "🔄 Regenerate", "⬅️ Back", "🏠 Main menu"} == set(ann.buttons(review))

    ann.press("✅ Approve")
    assert "Add media" in ann.last()["text"]
    ann.press("🖼️ Photo")
    ann.write("here is the text instead")
    assert "That is text, not a photo" in ann.last()["text"]
    ann.upload("video", name="clip.mp4")
    assert "That is a video, not a photo" in ann.last()["text"]
    ann.upload("photo")

    # the final preview: the post as the channel will show it, then the actions
    *_, preview, actions = ann.messages()
    post = Post.objects.get()
    assert post.media_kind == "photo" and post.media_file_id
    assert preview["media"]["type"] == "photo" and preview["caption"] == post.text
    assert "Final preview" in actions["text"]
    assert {"✅ Publish now", "🕒 Schedule", "✏️ Edit more", "❌ Delete"} <= set(ann.buttons(actions))

    ann.press("✅ Publish now", actions)
    channel = world.channel()
    assert len(channel) == 1
    assert channel[0]["media"]["type"] == "photo" and channel[0]["caption"] == preview["caption"]
    assert channel[0]["entities"] == preview["entities"]
    assert [b["text"] for row in channel[0]["reply_markup"]["inline_keyboard"] for b in row] == [
        b["text"] for row in preview["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert Post.objects.get().status == PostStatus.PUBLISHED
    assert "Posted to Time to Shopping" in ann.last()["text"]
    assert "Main menu" in ann.last()["text"]

    actions_logged = set(
        AuditEntry.objects.filter(telegram_user_id=ann.user_id).values_list("action", flat=True)
    )
    assert {
        "post.create",
        "post.keywords",
        "post.generated",
        "post.approve",
        "post.media",
        "post.publish",
    } <= (actions_logged)
    assert {"post.published"} <= actions_logged

    # the old Publish button of a published post: a notice, not an error, and nothing is sent twice
    ann.press("✅ Publish now", actions)
    assert "already published" in ann.last()["text"]
    assert len(world.channel()) == 1
