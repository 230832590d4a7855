"""Is a generated post publishable? Script share for the post's language, Telegram's length limits, and the
clean-up of wrappers models add around an answer (code fences, quotes, Markdown bold).

The script threshold: at least 70% of the letters must be in the language's script. Shopping posts keep
brand and model names in Latin ("Nike Air Max 270", "iPhone 15 Pro") and hashtags repeat them, so a good
Armenian post of 300-600 Armenian letters with a few such names sits at 85-98%; a reply that slipped into
English or transliterated Armenian ("Nor apranq...") is below 10%, and a half-translated one falls under
70%. Links and @mentions are left out of the count: they are never "the language".
"""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["hy", "ru", "en"]

MIN_SCRIPT_SHARE = 0.7
TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024

# (the script's name for people, its code point ranges)
_SCRIPTS: dict[str, tuple[str, tuple[tuple[int, int], ...]]] = {
    "hy": ("Armenian", ((0x0530, 0x058F), (0xFB13, 0xFB17))),  # the block + the Armenian ligatures
    "ru": ("Cyrillic", ((0x0400, 0x04FF), (0x0500, 0x052F))),
    "en": ("Latin", ((0x0041, 0x005A), (0x0061, 0x007A), (0x00C0, 0x024F))),
}
_NOT_LANGUAGE = re.compile(r"(?:https?://|www\.)\S+|@\w+", re.IGNORECASE)
_FENCE = re.compile(r"^```[\w-]*[ \t]*\n(?P<body>.*?)\n?```$", re.DOTALL)
_QUOTE_PAIRS = (('"', '"'), ("'", "'"), ("«", "»"), ("“", "”"), ("„", "“"))


def script_name(language: Language) -> str:
    return _SCRIPTS[language][0]


def _in_script(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in ranges)


def script_share(text: str, *, language: Language) -> float:
    """The share (0..1) of the letters in ``text`` written in ``language``'s script; 0 when there are none."""
    ranges = _SCRIPTS[language][1]
    letters = [char for char in _NOT_LANGUAGE.sub(" ", text) if char.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for char in letters if _in_script(char, ranges)) / len(letters)


def telegram_length(text: str) -> int:
    """The length as Telegram counts it: UTF-16 code units (an emoji usually counts as two)."""
    return len(text.encode("utf-16-le")) // 2


def post_limit(media_kind: str) -> int:
    """4096 for a text message, 1024 for the caption of a photo, video or GIF."""
    return TELEGRAM_TEXT_LIMIT if media_kind == "none" else TELEGRAM_CAPTION_LIMIT


def model_text_clean(text: str) -> str:
    """The post without what models wrap around it: surrounding whitespace, a code fence, quotes around
    the whole text, Markdown bold markers (a plain-text post would show them as asterisks)."""
    cleaned = text.strip()
    fenced = _FENCE.match(cleaned)
    if fenced:
        cleaned = fenced.group("body").strip()
    for opening, closing in _QUOTE_PAIRS:
        inner = cleaned[len(opening) : -len(closing)]
        # only a pair around the whole post: «Nike» in the middle of a sentence stays
        if (
            len(cleaned) > 2
            and cleaned.startswith(opening)
            and cleaned.endswith(closing)
            and opening not in inner
            and closing not in inner
        ):
            cleaned = inner.strip()
            break
    return cleaned.replace("**", "").replace("__", "")


def post_problems(text: str, *, language: Language, limit: int) -> list[str]:
    """Why ``text`` cannot be published as it is, in words for people (and for the model's next try);
    empty when it can."""
    if not text.strip():
        return ["the text is empty"]
    problems: list[str] = []
    length = telegram_length(text)
    if length > limit:
        kind = "message" if limit == TELEGRAM_TEXT_LIMIT else "caption"
        problems.append(f"the text is {length} characters long, over Telegram's {limit} for a {kind}")
    share = script_share(text, language=language)
    if share < MIN_SCRIPT_SHARE:
        problems.append(
            f"only {share:.0%} of the letters are {script_name(language)} "
            f"(at least {MIN_SCRIPT_SHARE:.0%} needed)"
        )
    return problems
