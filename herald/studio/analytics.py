"""The analytics screens as text (daily, weekly, top posts, by format) from ``herald.content.selectors``;
Telegram gives bots no view counts, and the screens say so instead of showing zeros."""

from __future__ import annotations

from django.utils.translation import gettext as _

from herald.content import selectors
from herald.studio import texts
from herald.studio.models import Studio
from herald.telegram.formatting import escape_html

WEEKS = 4
TOP = 5


def _format_label(fmt: str) -> str:
    return str(texts.FORMAT_LABELS.get(fmt, fmt))


def report(studio: Studio, view: str) -> str:
    destination = studio.destination
    if view == "daily":
        day = selectors.stats_daily(destination=destination)
        lines = [
            _("📅 <b>Daily statistics</b> · %(day)s") % {"day": day.start.strftime("%d.%m.%Y")},
            _("Posts published: %(n)s") % {"n": day.posts_published},
            _("Link clicks: %(n)s") % {"n": day.clicks},
            _("Reactions: %(n)s") % {"n": day.reactions},
            _("Failed publications: %(n)s") % {"n": day.failures},
        ]
    elif view == "weekly":
        weeks = selectors.stats_weekly(destination=destination, weeks=WEEKS)
        lines = [_("📊 <b>Weekly statistics</b> (posts · clicks · reactions)")]
        for week in weeks:
            lines.append(
                f"{week.start:%d.%m}–{week.end:%d.%m}: "
                f"{week.posts_published} · {week.clicks} · {week.reactions}"
            )
        if len(weeks) >= 2:
            now, before = weeks[-1], weeks[-2]
            lines.append(
                _("This week vs last: clicks %(clicks)+d, reactions %(reactions)+d")
                % {"clicks": now.clicks - before.clicks, "reactions": now.reactions - before.reactions}
            )
    elif view == "top":
        scores = selectors.top_posts(destination=destination, limit=TOP)
        lines = [_("🏆 <b>Top posts</b> (clicks · reactions)")]
        for rank, score in enumerate(scores, 1):
            head = (score.post.text or score.post.keywords).strip().replace("\n", " ")[:40]
            lines.append(f"{rank}. {escape_html(head)} · {score.clicks} · {score.reactions}")
        if not scores:
            lines.append(_("No published posts yet."))
    else:
        lines = [_("📈 <b>Performance by format</b> (posts · clicks/post · reactions/post)")]
        for row in selectors.stats_by_format(destination=destination):
            lines.append(
                f"{_format_label(row.format)}: "
                f"{row.posts} · {row.clicks_per_post:g} · {row.reactions_per_post:g}"
            )
    lines += ["", texts.no_views()]
    return "\n".join(lines)
