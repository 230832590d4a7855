"""How a post looks in the channel: the Bot API sends that carry it (media with caption, or media then text,
or text split at Telegram's limit), its text escaped for HTML and its links as URL buttons under the last one.

The studio sends the same sends to the editor as the final preview, so the preview is what the channel gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from herald.content.models import MediaKind, Post
from herald.telegram.formatting import TEXT_LIMIT, escape_html, plan_caption, split_text

# Bot API method and the name of its file parameter, per kind of media.
MEDIA_METHODS: dict[str, tuple[str, str]] = {
    MediaKind.PHOTO: ("sendPhoto", "photo"),
    MediaKind.VIDEO: ("sendVideo", "video"),
    MediaKind.ANIMATION: ("sendAnimation", "animation"),
}

Send = tuple[str, dict[str, Any]]


def link_keyboard(buttons: Sequence[tuple[str, str]]) -> dict[str, Any] | None:
    """An inline keyboard of URL buttons, one per row, or ``None`` for no buttons."""
    if not buttons:
        return None
    return {"inline_keyboard": [[{"text": text, "url": url}] for text, url in buttons]}


def post_sends(*, post: Post, buttons: Sequence[tuple[str, str]] | None = None) -> list[Send]:
    """The Bot API calls (method, params without chat_id) that put ``post`` in a chat, in order.

    ``buttons`` are (text, url) pairs; by default the post's own links (the publisher passes tracked ones).
    """
    if buttons is None:
        buttons = [(str(link.get("text") or link["url"]), str(link["url"])) for link in post.links or []]
    text = escape_html(post.text.strip())
    sends: list[Send]
    if post.media_kind in MEDIA_METHODS:
        method, param = MEDIA_METHODS[post.media_kind]
        plan = plan_caption(text, html=True)
        media: dict[str, Any] = {param: post.media_file_id}
        if plan.caption:
            media.update(caption=plan.caption, parse_mode="HTML")
        sends = [(method, media)]
        sends += [("sendMessage", {"text": piece, "parse_mode": "HTML"}) for piece in plan.follow_up]
    else:
        sends = [
            ("sendMessage", {"text": piece, "parse_mode": "HTML"})
            for piece in split_text(text, TEXT_LIMIT, html=True)
        ]
    keyboard = link_keyboard(buttons)
    if keyboard is not None:
        sends[-1][1]["reply_markup"] = keyboard
    return sends
