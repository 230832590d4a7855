"""The weekly chart the studio sends with its weekly analytics: posts, clicks and reactions per week, as a
PNG drawn with matplotlib's Agg renderer (no display, no global pyplot state, safe in worker threads)."""

from __future__ import annotations

import io

from herald.content.models import Destination
from herald.content.selectors import VIEWS_UNAVAILABLE, stats_weekly


def weekly_chart_png(*, destination: Destination, weeks: int = 8) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    stats = stats_weekly(destination=destination, weeks=weeks)
    labels = [s.start.strftime("%d %b") for s in stats]
    series = [
        ("Posts", [s.posts_published for s in stats], "#4c78a8"),
        ("Link clicks", [s.clicks for s in stats], "#f58518"),
        ("Reactions", [s.reactions for s in stats], "#54a24b"),
    ]
    figure = Figure(figsize=(9, 4.8), dpi=100)
    axes = figure.subplots()
    width = 0.27
    positions = range(len(stats))
    for offset, (name, values, colour) in enumerate(series):
        bars = axes.bar(
            [p + (offset - 1) * width for p in positions], values, width, label=name, color=colour
        )
        axes.bar_label(bars, labels=[str(v) if v else "" for v in values], fontsize=8)
    axes.set_xticks(list(positions), labels)
    axes.set_xlabel("Week starting")
    axes.set_title(f"{destination.title or destination.username or destination.chat_id}: last {weeks} weeks")
    axes.legend(loc="upper left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.text(0.01, 0.01, VIEWS_UNAVAILABLE, fontsize=7, color="#666666")
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
