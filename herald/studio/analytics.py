"""The analytics screens as text: daily, weekly, top posts and by format, from ``herald.content.selectors``."""

from __future__ import annotations

from herald.studio.models import Studio


def report(studio: Studio, view: str) -> str:
    raise NotImplementedError(view)
