"""The seed's data export: a channel's posts with their analytics, its events and a summary, as CSV (opens
in Excel: UTF-8 with a BOM), JSON or XLSX (sheets posts, events, summary). Built in memory: no temporary
files to clean up.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.text import slugify

from herald.content.models import Destination, Post, PostEvent, PostFormat, PostStatus
from herald.content.selectors import PUBLISHED_STATUSES, VIEWS_UNAVAILABLE, scores_by_post
from herald.core.errors import InvalidInput

ExportFormat = Literal["csv", "json", "xlsx"]
FORMATS = ("csv", "json", "xlsx")
CSV_TABLES = ("posts", "events", "summary")
MAX_EVENTS = 100_000

POST_COLUMNS = [
    "id",
    "status",
    "format",
    "language",
    "text_source",
    "text",
    "media",
    "links",
    "created_at",
    "scheduled_at",
    "published_at",
    "clicks",
    "reactions",
    "publish_attempts",
    "last_error",
    "channel_message_ids",
]
EVENT_COLUMNS = ["at", "post_id", "kind", "detail"]
SUMMARY_COLUMNS = ["metric", "value"]


def _local(value: dt.datetime | None, zone: ZoneInfo) -> dt.datetime | None:
    return value.astimezone(zone).replace(microsecond=0) if value is not None else None


def _post_rows(destination: Destination, zone: ZoneInfo) -> list[dict[str, Any]]:
    posts = list(Post.objects.filter(destination=destination).order_by("created_at", "pk"))
    clicks, reactions = scores_by_post([p.pk for p in posts])
    return [
        {
            "id": p.pk,
            "status": p.status,
            "format": p.format,
            "language": p.language,
            "text_source": p.text_source,
            "text": p.text,
            "media": p.media_kind,
            "links": " ".join(str(link.get("url", "")) for link in p.links or []),
            "created_at": _local(p.created_at, zone),
            "scheduled_at": _local(p.scheduled_at, zone),
            "published_at": _local(p.published_at, zone),
            "clicks": clicks.get(p.pk, 0),
            "reactions": reactions.get(p.pk, 0),
            "publish_attempts": p.publish_attempts,
            "last_error": p.last_error,
            "channel_message_ids": " ".join(str(i) for i in p.channel_message_ids),
        }
        for p in posts
    ]


def _event_rows(destination: Destination, zone: ZoneInfo) -> list[dict[str, Any]]:
    events = PostEvent.objects.filter(post__destination=destination).order_by("at", "pk")[:MAX_EVENTS]
    return [
        {
            "at": _local(event.at, zone),
            "post_id": event.post_id,
            "kind": event.kind,
            "detail": json.dumps(event.data, ensure_ascii=False, sort_keys=True),
        }
        for event in events
    ]


def _summary_rows(destination: Destination, posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    published = [p for p in posts if p["status"] in PUBLISHED_STATUSES]
    statuses = Counter(p["status"] for p in posts)
    clicks = sum(p["clicks"] for p in published)
    reactions = sum(p["reactions"] for p in published)
    rows: list[tuple[str, Any]] = [
        ("channel", str(destination)),
        ("time zone", destination.timezone),
        ("generated at", timezone.now().astimezone(ZoneInfo(destination.timezone)).replace(microsecond=0)),
        ("posts", len(posts)),
        *((f"posts {status}", statuses.get(status, 0)) for status in PostStatus.values),
        ("clicks", clicks),
        ("reactions", reactions),
        ("clicks per published post", round(clicks / len(published), 2) if published else 0),
        ("reactions per published post", round(reactions / len(published), 2) if published else 0),
    ]
    for fmt in PostFormat.values:
        of_format = [p for p in published if p["format"] == fmt]
        rows.append((f"published {fmt}", len(of_format)))
        rows.append((f"clicks {fmt}", sum(p["clicks"] for p in of_format)))
    rows.append(("views", VIEWS_UNAVAILABLE))
    return [{"metric": metric, "value": value} for metric, value in rows]


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    return "" if value is None else value


def _csv_safe(value: Any) -> Any:
    """A spreadsheet must not run a cell as a formula: text that starts like one gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, str) and value.startswith("-") and len(value) > 1 and not value[1].isspace():
        return "'" + value
    return value


def _csv(columns: list[str], rows: Iterable[dict[str, Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _csv_safe(_cell(row.get(key))) for key in columns})
    return buffer.getvalue().encode("utf-8-sig")  # the BOM tells Excel it is UTF-8


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _json(
    destination: Destination, posts: list[dict[str, Any]], events: list[dict[str, Any]], summary: list[Any]
) -> bytes:
    document = {
        "channel": {
            "title": destination.title,
            "username": destination.username,
            "chat_id": destination.chat_id,
            "timezone": destination.timezone,
        },
        "generated_at": timezone.now().isoformat(),
        "views": None,
        "views_note": VIEWS_UNAVAILABLE,
        "summary": {row["metric"]: _json_value(row["value"]) for row in summary},
        "posts": [{k: _json_value(v) for k, v in row.items()} for row in posts],
        "events": [
            {**{k: _json_value(v) for k, v in row.items()}, "detail": json.loads(row["detail"])}
            for row in events
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _xlsx(posts: list[dict[str, Any]], events: list[dict[str, Any]], summary: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheets = [
        ("posts", POST_COLUMNS, posts),
        ("events", EVENT_COLUMNS, events),
        ("summary", SUMMARY_COLUMNS, summary),
    ]
    for index, (title, columns, rows) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = title
        sheet.append(columns)
        for row in rows:
            values = [row.get(key) for key in columns]
            sheet.append([v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v for v in values])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text stays text, even when it starts with "="
        sheet.freeze_panes = "A2"
        for number, column in enumerate(columns, start=1):
            width = 60 if column in ("text", "detail", "last_error", "value") else max(12, len(column) + 2)
            sheet.column_dimensions[get_column_letter(number)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_posts(*, destination: Destination, fmt: str, table: str = "posts") -> tuple[str, bytes]:
    """``(filename, bytes)`` of the channel's data. JSON and XLSX hold posts, events and a summary; a CSV
    holds one ``table`` (posts by default, or events, or summary)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format: one of {', '.join(FORMATS)}, got {fmt!r}", field="format")
    if table not in CSV_TABLES:
        raise InvalidInput(f"table: one of {', '.join(CSV_TABLES)}, got {table!r}", field="table")
    zone = ZoneInfo(destination.timezone)
    posts = _post_rows(destination, zone)
    stamp = timezone.now().astimezone(zone).strftime("%Y%m%d-%H%M")
    name = slugify(destination.title or destination.username or destination.chat_id) or "channel"
    if fmt == "csv":
        if table == "posts":
            content = _csv(POST_COLUMNS, posts)
        elif table == "events":
            content = _csv(EVENT_COLUMNS, _event_rows(destination, zone))
        else:
            content = _csv(SUMMARY_COLUMNS, _summary_rows(destination, posts))
        return f"{name}-{table}-{stamp}.csv", content
    events = _event_rows(destination, zone)
    summary = _summary_rows(destination, posts)
    if fmt == "json":
        return f"{name}-export-{stamp}.json", _json(destination, posts, events, summary)
    return f"{name}-export-{stamp}.xlsx", _xlsx(posts, events, summary)
