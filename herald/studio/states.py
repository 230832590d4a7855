"""The editor's conversation as a state machine: the states an editor can be in, and the input each waits for.

Buttons carry everything they act on (see ``herald.studio.callbacks``), so a button works in any state; the
state decides what a typed message (or a photo) means. Transitions (``conversation.py`` implements them):

    MENU --New Post--> FORMAT --format--> KEYWORDS --text--> DETAILS --text|Skip--> GENERATING
    GENERATING --written--> REVIEW ; GENERATING --failed--> MANUAL_TEXT (write it yourself | Try again)
    REVIEW --Approve--> MEDIA ; REVIEW --Edit--> EDIT_TEXT --text--> MEDIA ; REVIEW --Regenerate--> GENERATING
    MANUAL_TEXT --text--> MEDIA ; MANUAL_TEXT --Try again--> KEYWORDS
    MEDIA --Photo|Video|GIF--> MEDIA_UPLOAD --file of that kind--> PREVIEW ; MEDIA --No media--> PREVIEW
    PREVIEW --Publish now--> MENU ; --Schedule--> SCHEDULE_DATE ; --Edit more--> REVIEW ; --Delete--> MENU
    SCHEDULE_DATE --day--> SCHEDULE_TIME --slot|HH:MM in the future--> MENU (confirmed)
    MENU --Drafts--> list --draft--> preview (Publish | Schedule | Edit -> REVIEW | Delete)
    MENU --Scheduled--> list --post--> preview (Publish now | Reschedule -> SCHEDULE_DATE | Cancel -> MENU)
    MENU --Analytics--> Daily | Weekly (+ chart) | Top | By format | Export -> CSV | JSON | XLSX
    MENU --Settings (admins)--> language | timezone (TIMEZONE: typed) | format | editors (EDITOR_ADD: an id)
Every screen has Back and Main menu; /start, /menu and /cancel go to MENU from anywhere.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    MENU = "menu"
    FORMAT = "format"
    KEYWORDS = "keywords"
    DETAILS = "details"
    GENERATING = "generating"
    REVIEW = "review"
    EDIT_TEXT = "edit_text"
    MANUAL_TEXT = "manual_text"
    MEDIA = "media"
    MEDIA_UPLOAD = "media_upload"
    PREVIEW = "preview"
    SCHEDULE_DATE = "schedule_date"
    SCHEDULE_TIME = "schedule_time"
    TIMEZONE = "timezone"
    EDITOR_ADD = "editor_add"


# States that wait for typed text (the rest answer a message with a hint and the main menu).
TEXT_STATES = frozenset(
    {
        State.KEYWORDS,
        State.DETAILS,
        State.EDIT_TEXT,
        State.MANUAL_TEXT,
        State.SCHEDULE_TIME,
        State.TIMEZONE,
        State.EDITOR_ADD,
    }
)
# States about one post: the session's post must still exist and be editable.
POST_STATES = frozenset(
    {
        State.KEYWORDS,
        State.DETAILS,
        State.GENERATING,
        State.REVIEW,
        State.EDIT_TEXT,
        State.MANUAL_TEXT,
        State.MEDIA,
        State.MEDIA_UPLOAD,
        State.PREVIEW,
        State.SCHEDULE_DATE,
        State.SCHEDULE_TIME,
    }
)
