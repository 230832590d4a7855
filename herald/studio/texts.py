"""What the studio says to editors, in English by default and translated by Django's gettext (the Armenian and
Russian catalogs are in ``locale/``). Labels keep the seed's emoji. Call these while the studio's interface
language is active (``translation.override``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

FORMAT_LABELS = {
    "selling": gettext_lazy("🔥 Selling"),
    "collection": gettext_lazy("📝 Collection"),
    "info": gettext_lazy("💡 Info"),
    "promo": gettext_lazy("⚡ Promo"),
}
MEDIA_LABELS = {
    "photo": gettext_lazy("🖼️ Photo"),
    "video": gettext_lazy("🎥 Video"),
    "animation": gettext_lazy("🎞️ GIF"),
    "none": gettext_lazy("🚫 No media"),
}
MEDIA_NAMES = {
    "photo": gettext_lazy("a photo"),
    "video": gettext_lazy("a video"),
    "animation": gettext_lazy("a GIF"),
    "document": gettext_lazy("a file"),
    "text": gettext_lazy("text"),
    "other": gettext_lazy("something else"),
}
POST_LANGUAGE_LABELS = {"hy": "🇦🇲 Հայերեն", "ru": "🇷🇺 Русский", "en": "🇬🇧 English"}
TIMEZONE_PRESETS = ("Asia/Yerevan", "Europe/Moscow", "Asia/Tbilisi", "Europe/London", "UTC")


def new_post() -> str:
    return _("📝 New Post")


def drafts() -> str:
    return _("📋 Drafts")


def scheduled() -> str:
    return _("⏰ Scheduled")


def analytics() -> str:
    return _("📊 Analytics")


def settings() -> str:
    return _("🔧 Settings")


def help_label() -> str:
    return _("ℹ️ Help")


def back() -> str:
    return _("⬅️ Back")


def main_menu() -> str:
    return _("🏠 Main menu")


def main_menu_title() -> str:
    return _("🏠 <b>Main menu</b>\nWhat would you like to do?")


def access_denied() -> str:
    return _("❌ Access denied. Contact the admin of this studio to be added as an editor.")


def not_configured() -> str:
    return _("This studio is not set up yet: its admin sets the channel and the editors first.")


def rate_limited(seconds: int) -> str:
    return _("⏳ Too many requests. You are paused for %(seconds)s seconds; then carry on.") % {
        "seconds": seconds
    }


def choose_format() -> str:
    return _("🎯 <b>Select the format</b> of the new post:")


def default_marker() -> str:
    return _("(default)")


def enter_keywords(format_label: str) -> str:
    return _(
        "%(format)s\n\n📝 <b>Enter keywords</b>: the main topics and products of the post, "
        "for example <i>Nike Air Max, summer sale, sizes 38-45</i>."
    ) % {"format": format_label}


def enter_details() -> str:
    return _(
        "📝 <b>Additional details</b> (optional): prices, sizes, dates, a promo code, a link… "
        "Send them, or press Skip."
    )


def skip() -> str:
    return _("⏭️ Skip")


def writing() -> str:
    return _("🤖 Writing the post…")


def review_title() -> str:
    return _("👀 <b>Review the generated text</b>")


def approve() -> str:
    return _("✅ Approve")


def edit() -> str:
    return _("✏️ Edit")


def regenerate() -> str:
    return _("🔄 Regenerate")


def template_warning() -> str:
    return _("⚠️ No AI service is configured: this text was written from a built-in template.")


def generation_failed(cause: str) -> str:
    return _(
        "❌ <b>Generation failed</b>: %(cause)s\n\n🔧 Write the post yourself: send its text here. "
        "Or try again with other keywords."
    ) % {"cause": cause}


def try_again() -> str:
    return _("🔄 Try again")


def send_new_text() -> str:
    return _("✏️ Send the new text of the post. The current text:")


def text_saved_to_drafts() -> str:
    return _("📝 The text is ready and saved in your drafts.")


def add_media() -> str:
    return _("🖼️ <b>Add media</b> to the post?")


def send_media(kind_name: str) -> str:
    return _("📤 Send %(kind)s for the post.") % {"kind": kind_name}


def wrong_media(got: str, wanted: str) -> str:
    return _("That is %(got)s, not %(wanted)s. Send %(wanted)s, or press Back to choose another type.") % {
        "got": got,
        "wanted": wanted,
    }


def media_too_large(size_mb: str, limit_mb: str) -> str:
    return _(
        "This file is too large (%(size)s MB; the limit is %(limit)s MB). Send a smaller one, "
        "or press Back to choose another type."
    ) % {"size": size_mb, "limit": limit_mb}


def preview_title() -> str:
    return _("👁️ <b>Final preview</b>: above is the post exactly as the channel will show it. What next?")


def publish_now() -> str:
    return _("✅ Publish now")


def publish() -> str:
    return _("✅ Publish")


def schedule() -> str:
    return _("🕒 Schedule")


def reschedule() -> str:
    return _("🕒 Reschedule")


def edit_more() -> str:
    return _("✏️ Edit more")


def delete() -> str:
    return _("❌ Delete")


def cancel_schedule() -> str:
    return _("❌ Cancel schedule")


def publishing() -> str:
    return _("🚀 Publishing to the channel… You will be told when it is there.")


def published(channel: str, link: str) -> str:
    if link:
        return _("📢 <b>Posted to %(channel)s.</b> %(link)s") % {"channel": channel, "link": link}
    return _("📢 <b>Posted to %(channel)s.</b>") % {"channel": channel}


def publish_failed(error: str) -> str:
    return _(
        "❌ <b>Publish failed</b>: Telegram said <i>%(error)s</i>\n\nThe post is kept. It will be retried "
        "automatically; or retry now."
    ) % {"error": error}


def retry() -> str:
    return _("🔄 Retry")


def deleted() -> str:
    return _("🗑️ The draft was deleted.")


def pick_day(zone: str) -> str:
    return _("📅 <b>Select the date</b> of publication (times are in %(zone)s):") % {"zone": zone}


def pick_time(day: str, zone: str) -> str:
    return _("🕐 <b>Select the time</b> on %(day)s (%(zone)s), or type it as HH:MM, for example 18:30.") % {
        "day": day,
        "zone": zone,
    }


def time_in_past(now: str, zone: str) -> str:
    return _("That time has already passed (it is now %(now)s in %(zone)s). Pick a later time.") % {
        "now": now,
        "zone": zone,
    }


def time_not_understood() -> str:
    return _("Type the time as HH:MM, for example 09:30 or 18:00.")


def scheduled_confirmed(when: str, zone: str) -> str:
    return _("✅ <b>Post scheduled</b> for %(when)s (%(zone)s).") % {"when": when, "zone": zone}


def unscheduled() -> str:
    return _("❌ The schedule was cancelled; the post is back in your drafts.")


def drafts_title(page: int, pages: int) -> str:
    return _("📋 <b>Drafts</b> (page %(page)s of %(pages)s). Select a draft:") % {
        "page": page,
        "pages": pages,
    }


def no_drafts() -> str:
    return _("📋 You have no drafts. Press New Post to write one.")


def scheduled_title(page: int, pages: int) -> str:
    return _("⏰ <b>Scheduled posts</b> (page %(page)s of %(pages)s). Select a post:") % {
        "page": page,
        "pages": pages,
    }


def no_scheduled() -> str:
    return _("⏰ Nothing is scheduled.")


def draft_title(format_label: str) -> str:
    return _("📋 <b>Draft</b> · %(format)s. What would you like to do with it?") % {"format": format_label}


def scheduled_post_title(when: str, zone: str) -> str:
    return _("⏰ <b>Scheduled</b> for %(when)s (%(zone)s). What would you like to do?") % {
        "when": when,
        "zone": zone,
    }


def no_text_yet() -> str:
    return _("(no text yet)")


def needs_text() -> str:
    return _("This draft has no text yet: press Edit to write it first.")


def analytics_title() -> str:
    return _("📊 <b>Analytics</b>: what would you like to see?")


def daily() -> str:
    return _("📅 Daily")


def weekly() -> str:
    return _("📊 Weekly")


def top_posts() -> str:
    return _("🏆 Top Posts")


def formats() -> str:
    return _("📈 Formats")


def export() -> str:
    return _("📄 Export")


def no_views() -> str:
    return _("👁️ Views: Telegram does not give bots view counts, so none are shown.")


def export_title() -> str:
    return _("📄 <b>Export</b> the channel's posts and their analytics as:")


def export_csv(table: str) -> str:
    labels = {"posts": _("📝 Posts"), "events": _("📊 Analytics"), "summary": _("📈 Summary")}
    return f"{labels[table]} (CSV)"


def export_caption(fmt: str) -> str:
    return _("📁 The export (%(fmt)s) of the channel's posts and analytics.") % {"fmt": fmt.upper()}


def preparing() -> str:
    return _("⏳ Preparing…")


def settings_title(language: str, zone: str, fmt: str, interface: str, editors: int) -> str:
    return _(
        "🔧 <b>Settings</b>\n"
        "Language of posts: %(language)s\n"
        "Timezone: %(zone)s\n"
        "Default format: %(fmt)s\n"
        "Interface language: %(interface)s\n"
        "Editors: %(editors)s"
    ) % {"language": language, "zone": zone, "fmt": fmt, "interface": interface, "editors": editors}


def post_language() -> str:
    return _("🌐 Language of posts")


def interface_language() -> str:
    return _("🗣️ Interface language")


def timezone_label() -> str:
    return _("🕐 Timezone")


def default_format() -> str:
    return _("🎯 Default format")


def editors_label() -> str:
    return _("👥 Editors")


def choose_language() -> str:
    return _("🌐 Choose a language:")


def choose_timezone() -> str:
    return _("🕐 Choose the timezone, or type its IANA name (for example Asia/Yerevan):")


def editors_title() -> str:
    return _("👥 <b>Editors</b> (👑 admin). Press 👑 to make an editor an admin or not, 🗑️ to remove one.")


def add_editor() -> str:
    return _("➕ Add editor")


def enter_editor_id() -> str:
    return _("➕ Send the Telegram user id of the new editor (a number; they can find it with @userinfobot).")


def not_a_user_id() -> str:
    return _("That is not a Telegram user id: send a number such as 123456789.")


def admins_only() -> str:
    return _("🔒 Only the studio's admins can change the settings.")


def saved() -> str:
    return _("✅ Saved.")


def help_text() -> str:
    return _(
        "ℹ️ <b>Help</b>\n"
        "/start or /menu: the main menu\n"
        "/new: write a new post (format, keywords, details, AI text, media, preview)\n"
        "/drafts: your drafts: publish, schedule, edit or delete them\n"
        "/scheduled: posts waiting for their time: publish now, reschedule or cancel\n"
        "/analytics: daily and weekly numbers, top posts, formats, export (CSV, JSON, XLSX)\n"
        "/settings: language of posts, timezone, default format, editors (admins)\n"
        "/cancel: stop what you are doing and go back to the main menu\n"
        "Every draft is saved at each step: nothing you typed is lost."
    )


def use_buttons() -> str:
    return _("Use the buttons below, or /start for the main menu.")


def send_text() -> str:
    return _("Please send text.")


def too_long(limit: int) -> str:
    return _("That is too long: at most %(limit)s characters.") % {"limit": limit}


def stale_deleted() -> str:
    return _("This post no longer exists: it was deleted.")


def stale_published() -> str:
    return _("This post was already published.")


def stale_changed() -> str:
    return _("This button is out of date: the post changed since. Here is where it stands now.")


def stale_generic() -> str:
    return _("This button is out of date.")


def something_wrong() -> str:
    return _("Something went wrong. Back to the main menu; your drafts are kept.")


def unauthorized_report(who: str, what: str) -> str:
    return _("⚠️ <b>Unauthorized attempt</b> by %(who)s: %(what)s") % {"who": who, "what": what}


def rate_limit_report(who: str, seconds: int) -> str:
    return _("⚠️ %(who)s exceeded the rate limit and is paused for %(seconds)s seconds.") % {
        "who": who,
        "seconds": seconds,
    }


def still_writing() -> str:
    return _("🤖 Still writing… the text will appear above.")


def previous_page() -> str:
    return "«"


def next_page() -> str:
    return "»"
