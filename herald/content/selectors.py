"""Reads of the content app: posts by status (paginated), one post, and the analytics (daily, weekly, top
posts, by format).

Telegram's Bot API gives bots no view counts, so no figure here pretends to be one: every result carries
``views=None`` and ``VIEWS_UNAVAILABLE`` says why. Clicks on tracked links and reactions are counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.core.paginator import Page, Paginator
from django.db.models import Sum
from django.utils import timezone

from herald.content.models import (
    Destination,
    Post,
    PostEvent,
    PostEventKind,
    PostFormat,
    PostReactions,
    PostStatus,
    TrackedLink,
)
from herald.core.errors import InvalidInput, NotFound

VIEWS_UNAVAILABLE = (
    "Telegram gives bots no view counts for channel posts, so views are not shown; "
    "clicks on the posts' links and reactions are counted instead."
)
PUBLISHED_STATUSES = (PostStatus.PUBLISHED, PostStatus.ARCHIVED)
MAX_PER_PAGE = 50
MAX_WEEKS = 52


def post_get(*, post_id: int, destination: Destination | None = None) -> Post:
    """The post, or NotFound (a stale button after the post was deleted)."""
    posts = Post.objects.select_related("destination")
    if destination is not None:
        posts = posts.filter(destination=destination)
    post = posts.filter(pk=post_id).first()
    if post is None:
        raise NotFound("This post no longer exists (it was deleted).", code="post_not_found")
    return post


def posts_for(
    *,
    destination: Destination,
    status: str | Sequence[str],
    page: int = 1,
    per_page: int = 5,
) -> Page[Post]:
    """One page of the destination's posts in ``status`` (one or several): scheduled ones by their time,
    the others newest first. A page past the end gives the last page."""
    statuses = [status] if isinstance(status, str) else list(status)
    unknown = [s for s in statuses if s not in PostStatus.values]
    if unknown:
        raise InvalidInput(f"status: unknown post status {unknown[0]!r}", field="status")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"per_page: between 1 and {MAX_PER_PAGE}", field="per_page")
    posts = Post.objects.filter(destination=destination, status__in=statuses)
    if statuses == [PostStatus.SCHEDULED]:
        posts = posts.order_by("scheduled_at", "pk")
    else:
        posts = posts.order_by("-updated_at", "-pk")
    return Paginator(posts, per_page).get_page(page)


def link_target(*, code: str) -> str:
    """Where a tracked link leads, without counting a click; NotFound for an unknown code."""
    url = TrackedLink.objects.filter(code=code).values_list("url", flat=True).first()
    if url is None:
        raise NotFound("No such link.", code="link_not_found")
    return url


# --- Analytics --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodStats:
    """What happened in a channel in one local day or week (``start`` inclusive, ``end`` exclusive)."""

    start: dt.date
    end: dt.date
    posts_published: int
    clicks: int
    reactions: int  # reactions added (net) in the period
    failures: int
    views: None = None
    views_note: str = VIEWS_UNAVAILABLE


@dataclass(frozen=True)
class PostScore:
    post: Post
    clicks: int
    reactions: int
    views: None = None

    @property
    def score(self) -> int:
        return self.clicks + self.reactions


@dataclass(frozen=True)
class FormatStats:
    format: str
    label: str
    posts: int
    clicks: int
    reactions: int
    views: None = None
    views_note: str = field(default=VIEWS_UNAVAILABLE, repr=False)

    @property
    def clicks_per_post(self) -> float:
        return round(self.clicks / self.posts, 2) if self.posts else 0.0

    @property
    def reactions_per_post(self) -> float:
        return round(self.reactions / self.posts, 2) if self.posts else 0.0


def local_today(destination: Destination) -> dt.date:
    return timezone.now().astimezone(ZoneInfo(destination.timezone)).date()


def _bounds(destination: Destination, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(destination.timezone)
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=zone).astimezone(dt.UTC),
        dt.datetime.combine(end, dt.time.min, tzinfo=zone).astimezone(dt.UTC),
    )


def _period(destination: Destination, start: dt.date, end: dt.date) -> PeriodStats:
    since, until = _bounds(destination, start, end)
    events = PostEvent.objects.filter(post__destination=destination, at__gte=since, at__lt=until)
    counts = {kind: 0 for kind in PostEventKind.values}
    reactions = 0
    for kind, data in events.values_list("kind", "data"):
        counts[kind] += 1
        if kind == PostEventKind.REACTION and isinstance(data, dict):
            delta = data.get("delta")
            reactions += delta if isinstance(delta, int) else 0
    return PeriodStats(
        start=start,
        end=end,
        posts_published=counts[PostEventKind.PUBLISHED],
        clicks=counts[PostEventKind.CLICK],
        reactions=reactions,
        failures=counts[PostEventKind.FAILED],
    )


def stats_daily(*, destination: Destination, day: dt.date | None = None) -> PeriodStats:
    """One local day (today in the channel's time zone by default)."""
    day = day or local_today(destination)
    return _period(destination, day, day + dt.timedelta(days=1))


def stats_weekly(*, destination: Destination, weeks: int = 4) -> list[PeriodStats]:
    """The last ``weeks`` local weeks (Monday to Sunday), oldest first, the current week last."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput(f"weeks: between 1 and {MAX_WEEKS}", field="weeks")
    today = local_today(destination)
    monday = today - dt.timedelta(days=today.weekday())
    starts = [monday - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    return [_period(destination, start, start + dt.timedelta(days=7)) for start in starts]


def scores_by_post(post_ids: Sequence[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Clicks and reactions per post id (posts with none are missing from the maps)."""
    clicks = {
        int(post_id): int(total or 0)
        for post_id, total in TrackedLink.objects.filter(post_id__in=post_ids)
        .values("post_id")
        .annotate(total=Sum("clicks"))
        .values_list("post_id", "total")
    }
    reactions = {
        int(post_id): int(total or 0)
        for post_id, total in PostReactions.objects.filter(post_id__in=post_ids)
        .values("post_id")
        .annotate(total=Sum("count"))
        .values_list("post_id", "total")
    }
    return clicks, reactions


def post_score(*, post: Post) -> PostScore:
    clicks, reactions = scores_by_post([post.pk])
    return PostScore(post=post, clicks=clicks.get(post.pk, 0), reactions=reactions.get(post.pk, 0))


def top_posts(*, destination: Destination, limit: int = 5) -> list[PostScore]:
    """The published posts with the most clicks and reactions, best first."""
    if not 1 <= limit <= MAX_PER_PAGE:
        raise InvalidInput(f"limit: between 1 and {MAX_PER_PAGE}", field="limit")
    posts = list(Post.objects.filter(destination=destination, status__in=PUBLISHED_STATUSES))
    clicks, reactions = scores_by_post([p.pk for p in posts])
    scored = [PostScore(post=p, clicks=clicks.get(p.pk, 0), reactions=reactions.get(p.pk, 0)) for p in posts]
    scored.sort(key=lambda s: (s.score, s.post.published_at or s.post.created_at), reverse=True)
    return scored[:limit]


def stats_by_format(*, destination: Destination) -> list[FormatStats]:
    """Published posts, clicks and reactions per post format (every format, also those not used yet)."""
    totals = {value: [0, 0, 0] for value in PostFormat.values}
    posts = list(
        Post.objects.filter(destination=destination, status__in=PUBLISHED_STATUSES).values_list(
            "pk", "format"
        )
    )
    clicks, reactions = scores_by_post([pk for pk, _ in posts])
    for pk, fmt in posts:
        row = totals.setdefault(fmt, [0, 0, 0])
        row[0] += 1
        row[1] += clicks.get(pk, 0)
        row[2] += reactions.get(pk, 0)
    labels = dict(PostFormat.choices)
    return [
        FormatStats(format=fmt, label=str(labels.get(fmt, fmt)), posts=n, clicks=c, reactions=r)
        for fmt, (n, c, r) in totals.items()
    ]
