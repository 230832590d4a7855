"""What the analytics see: clicks on tracked links (through ``/r/<code>``), reactions from Telegram's
``message_reaction_count`` updates, daily/weekly/top/by-format figures without invented view counts, the
exports (parsed back) and the weekly chart; archiving after 30 days."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import httpx
import pytest
from django.utils import timezone
from openpyxl import load_workbook

from herald.bots.models import TelegramBot
from herald.content import charts, export, selectors, services
from herald.content.models import Destination, Post, PostEvent, PostReactions, PostStatus, TrackedLink
from herald.core.errors import InvalidInput
from herald.telegram import client
from tests.content.conftest import EDITOR
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_messages

pytestmark = pytest.mark.django_db(transaction=True)

SHOP = "https://shop.example.am/sale"


def published(destination: Destination, text: str, fmt: str = "selling", links: bool = True) -> Post:
    post = services.post_create_draft(
        destination=destination, author_telegram_id=EDITOR, format=fmt, language="hy"
    )
    post = services.post_update(
        post=post, text=text, links=[{"text": "Shop", "url": f"{SHOP}?p={fmt}"}] if links else []
    )
    services.post_publish_now(post=post)
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    return post


def button_url(channel_id: int, post: Post) -> str:
    [message] = [m for m in sandbox_messages(channel_id) if m["message_id"] == post.channel_message_ids[-1]]
    return str(message["reply_markup"]["inline_keyboard"][0][0]["url"])


def test_a_click_on_a_button_counts_and_redirects(
    publishing: str, destination: Destination, channel_id: int
) -> None:
    post = published(destination, "Զեղչեր")
    url = button_url(channel_id, post)
    assert url.startswith(f"{publishing}/r/")
    for _ in range(2):
        answer = httpx.get(url, follow_redirects=False)
        assert answer.status_code == 302
        assert answer.headers["location"] == f"{SHOP}?p=selling"
    assert httpx.head(url).status_code == 302  # a crawler's HEAD is not a click
    link = TrackedLink.objects.get(post=post)
    assert link.clicks == 2
    assert PostEvent.objects.filter(post=post, kind="click").count() == 2


@pytest.mark.parametrize("code", ["nosuchcode", "a", "x" * 40, "..%2f..%2fetc", "%00%0a", "%ff"])
def test_an_unknown_link_is_a_404_not_an_error(publishing: str, code: str) -> None:
    assert httpx.get(f"{publishing}/r/{code}", follow_redirects=False).status_code == 404
    answer = httpx.get(f"{publishing}/r/{code}", headers={"Accept": "application/json"})
    assert answer.status_code == 404
    if "%0a" not in code:  # a line break matches no route at all: the site's plain 404
        assert answer.json()["code"] == "link_not_found"


def test_reactions_from_telegrams_updates_are_recorded(
    publishing: str,
    studio_bot: SandboxBot,
    hosted_bot: TelegramBot,
    destination: Destination,
    channel_id: int,
) -> None:
    # A studio bot asks for reaction counts (a channel admin gets them only when it asks).
    client.call(studio_bot.token, "getUpdates", allowed_updates=["message_reaction_count"], timeout=0)
    post = published(destination, "Նոր հավաքածու", fmt="collection")
    message_id = post.channel_message_ids[0]

    def react(reactions: dict[str, int]) -> dict[str, Any]:
        answer = httpx.post(
            f"{publishing}/sandbox/api/react",
            json={
                "bot": studio_bot.username,
                "chat": channel_id,
                "message_id": message_id,
                "reactions": reactions,
            },
        )
        assert answer.status_code == 200, answer.text
        updates = client.call(studio_bot.token, "getUpdates", timeout=0)
        update = updates[-1]
        client.call(studio_bot.token, "getUpdates", offset=update["update_id"] + 1, timeout=0)
        return dict(update["message_reaction_count"])

    update = react({"👍": 3, "🔥": 1})
    recorded = services.reactions_record(
        bot=hosted_bot,
        chat_id=update["chat"]["id"],
        message_id=update["message_id"],
        reactions=services.reaction_counts_from_update(update),
    )
    assert recorded is not None and recorded.pk == post.pk
    assert dict(PostReactions.objects.filter(post=post).values_list("emoji", "count")) == {"👍": 3, "🔥": 1}

    update = react({"👍": 5})  # 🔥 was taken back
    services.reactions_record(
        bot=hosted_bot,
        chat_id=update["chat"]["id"],
        message_id=update["message_id"],
        reactions=services.reaction_counts_from_update(update),
    )
    assert dict(PostReactions.objects.filter(post=post).values_list("emoji", "count")) == {"👍": 5}
    assert selectors.post_score(post=post).reactions == 5
    assert selectors.stats_daily(destination=destination).reactions == 5  # +4, then +1
    # a message that is not one of our posts
    assert (
        services.reactions_record(bot=hosted_bot, chat_id=channel_id, message_id=9999, reactions={"👍": 1})
        is None
    )
    with pytest.raises(InvalidInput):
        services.reactions_record(
            bot=hosted_bot, chat_id=channel_id, message_id=message_id, reactions={"👍": -1}
        )


def test_stats_count_posts_clicks_and_reactions_and_never_invent_views(
    publishing: str, hosted_bot: TelegramBot, destination: Destination, channel_id: int
) -> None:
    selling = published(destination, "Վաճառք մեկ", fmt="selling")
    promo = published(destination, "Ակցիա երկու", fmt="promo")
    info = published(destination, "Տեղեկություն", fmt="info", links=False)
    for _ in range(3):
        httpx.get(button_url(channel_id, promo), follow_redirects=False)
    httpx.get(button_url(channel_id, selling), follow_redirects=False)
    services.reactions_record(
        bot=hosted_bot, chat_id=channel_id, message_id=info.channel_message_ids[0], reactions={"❤": 2}
    )
    failed_draft = services.post_create_draft(destination=destination, author_telegram_id=EDITOR)
    assert failed_draft.status == PostStatus.DRAFT

    today = selectors.stats_daily(destination=destination)
    assert (today.posts_published, today.clicks, today.reactions, today.failures) == (3, 4, 2, 0)
    assert today.views is None and "no view counts" in today.views_note
    yesterday = selectors.stats_daily(destination=destination, day=today.start - dt.timedelta(days=1))
    assert (yesterday.posts_published, yesterday.clicks) == (0, 0)

    weeks = selectors.stats_weekly(destination=destination, weeks=4)
    assert len(weeks) == 4
    assert [w.posts_published for w in weeks] == [0, 0, 0, 3]
    assert weeks[-1].start.weekday() == 0 and weeks[-1].start <= today.start < weeks[-1].end

    top = selectors.top_posts(destination=destination, limit=2)
    assert [(s.post.pk, s.clicks, s.reactions) for s in top] == [(promo.pk, 3, 0), (info.pk, 0, 2)]
    by_format = {f.format: f for f in selectors.stats_by_format(destination=destination)}
    assert set(by_format) == {"selling", "collection", "info", "promo"}
    assert (by_format["promo"].posts, by_format["promo"].clicks, by_format["promo"].clicks_per_post) == (
        1,
        3,
        3.0,
    )
    assert by_format["collection"].posts == 0
    assert by_format["selling"].label == "🔥 Selling"

    png = charts.weekly_chart_png(destination=destination, weeks=6)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_exports_parse_back(publishing: str, destination: Destination, channel_id: int) -> None:
    post = published(destination, '=SUM(A1) Զեղչեր, «մեծ» "quoted"\nsecond line')
    httpx.get(button_url(channel_id, post), follow_redirects=False)
    services.post_create_draft(destination=destination, author_telegram_id=EDITOR, format="info")

    name, data = export.export_posts(destination=destination, fmt="csv")
    assert name.endswith(".csv") and data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 2
    row = next(r for r in rows if r["id"] == str(post.pk))
    assert row["text"] == "'" + post.text  # a formula-looking cell is not run by the spreadsheet
    assert (row["status"], row["clicks"], row["reactions"]) == ("published", "1", "0")
    events = list(
        csv.DictReader(
            io.StringIO(
                export.export_posts(destination=destination, fmt="csv", table="events")[1].decode("utf-8-sig")
            )
        )
    )
    assert sorted(e["kind"] for e in events) == ["click", "published"]

    name, data = export.export_posts(destination=destination, fmt="json")
    document = json.loads(data)
    assert document["views"] is None and document["views_note"]
    [exported] = [p for p in document["posts"] if p["id"] == post.pk]
    assert exported["text"] == post.text and exported["clicks"] == 1
    assert document["summary"]["clicks"] == 1 and document["summary"]["posts published"] == 1
    assert {e["kind"] for e in document["events"]} == {"click", "published"}

    name, data = export.export_posts(destination=destination, fmt="xlsx")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["posts", "events", "summary"]
    sheet = book["posts"]
    header = [c.value for c in sheet[1]]
    values = {
        row[0]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert values[post.pk]["text"] == post.text  # kept as text, not a formula
    assert values[post.pk]["clicks"] == 1
    assert isinstance(values[post.pk]["published_at"], dt.datetime)
    summary = {metric: value for metric, value in book["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["posts"] == 2 and summary["clicks"] == 1
    assert book["events"].max_row == 3

    with pytest.raises(InvalidInput):
        export.export_posts(destination=destination, fmt="pdf")


def test_published_posts_are_archived_after_30_days(publishing: str, destination: Destination) -> None:
    post = published(destination, "Հին գրառում", links=False)
    assert services.posts_archive(now=timezone.now() + dt.timedelta(days=29)) == 0
    assert services.posts_archive(now=timezone.now() + dt.timedelta(days=31)) == 1
    post.refresh_from_db()
    assert post.status == PostStatus.ARCHIVED and post.archived_at is not None
    assert [s.post.pk for s in selectors.top_posts(destination=destination)] == [post.pk]  # still counted
