"""Callback data of the studio's buttons: ``s:<action>:<post id>:<post version>:<argument>``.

The post id and version let a press on an old message be recognised: the post was deleted, published, or
changed since the button was drawn (a "stale button"), instead of acting on something the editor no longer
sees. The calendar and the time picker use the prefixes ``c-<post>-<version>`` and ``t-<post>-<version>``.
Everything stays inside Telegram's 64 bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "s"
_CALENDAR = re.compile(r"^c-(\d{1,19})-(\d{1,10})$")
_TIME = re.compile(r"^t-(\d{1,19})-(\d{1,10})$")


class Action:
    MENU = "m"
    NEW = "np"
    FORMAT = "f"  # arg: the format
    SKIP = "sk"
    APPROVE = "ap"
    EDIT = "ed"
    REGENERATE = "rg"
    RETRY_GENERATION = "rk"  # manual mode's "Try again": back to the keywords
    MEDIA = "mk"  # arg: none | photo | video | animation
    BACK_TO_MEDIA = "mb"
    PREVIEW = "pv"
    PUBLISH = "pb"
    SCHEDULE = "sc"
    EDIT_MORE = "em"
    DELETE = "dl"
    DELETE_CONFIRM = "dc"
    DRAFTS = "dr"  # arg: page
    DRAFT = "dv"
    SCHEDULED = "sl"  # arg: page
    SCHEDULED_POST = "sv"
    UNSCHEDULE = "cx"
    RETRY_PUBLISH = "rp"
    ANALYTICS = "an"
    DAILY = "ad"
    WEEKLY = "aw"
    TOP = "at"
    FORMATS = "af"
    EXPORT = "ex"
    EXPORT_AS = "xf"  # arg: csv | json | xlsx
    SETTINGS = "st"
    SET_LANGUAGE = "sg"  # arg: language (none: show the choice)
    SET_UI_LANGUAGE = "su"  # arg: language (none: show the choice)
    SET_TIMEZONE = "sz"  # arg: zone (none: ask for it)
    SET_FORMAT = "sf"  # arg: format (none: show the choice)
    EDITORS = "se"
    EDITOR_ADD = "sa"
    EDITOR_ADMIN = "sd"  # arg: user id (toggle admin)
    EDITOR_REMOVE = "sr"  # arg: user id
    HELP = "h"
    KEYWORDS = "kw"  # back to the keywords step of a post
    DETAILS = "dt"  # back to the details step of a post
    NOOP = "x"


@dataclass(frozen=True)
class Callback:
    action: str
    post_id: int | None = None
    version: int | None = None
    arg: str = ""

    def encode(self) -> str:
        post = "" if self.post_id is None else str(self.post_id)
        version = "" if self.version is None else str(self.version)
        data = f"{PREFIX}:{self.action}:{post}:{version}:{self.arg}".rstrip(":")
        if len(data.encode()) > 64:
            raise ValueError(f"callback data over 64 bytes: {data!r}")
        return data


def cb(action: str, post: object | None = None, arg: str = "") -> str:
    """The data for a button acting on ``post`` (anything with ``pk`` and ``version``) or on nothing."""
    if post is None:
        return Callback(action, arg=arg).encode()
    return Callback(action, int(post.pk), int(post.version), arg).encode()  # type: ignore[attr-defined]


def parse(data: str) -> Callback | None:
    """The studio button behind ``data``, or None if it is not one of ours (or is malformed)."""
    parts = data.split(":")
    if len(parts) < 2 or parts[0] != PREFIX or not parts[1]:
        return None
    parts += [""] * (5 - len(parts))
    _, action, post, version, arg = parts[:5]
    if (post and not post.isdigit()) or (version and not version.isdigit()):
        return None
    return Callback(action, int(post) if post else None, int(version) if version else None, arg)


def calendar_prefix(post: object) -> str:
    return f"c-{post.pk}-{post.version}"  # type: ignore[attr-defined]


def time_prefix(post: object) -> str:
    return f"t-{post.pk}-{post.version}"  # type: ignore[attr-defined]


def picker_target(data: str) -> tuple[str, int, int, str] | None:
    """("calendar" | "time", post id, version, prefix) for a calendar or time-picker button, else None."""
    prefix = data.partition(":")[0]
    for kind, pattern in (("calendar", _CALENDAR), ("time", _TIME)):
        match = pattern.match(prefix)
        if match:
            return kind, int(match.group(1)), int(match.group(2)), prefix
    return None
