"""The prompts for a shopping channel's posts: one system prompt per format and language, the editor's
keywords and details as the user message, and the feedback sent when a version was unusable.

The user message keeps its facts on labelled lines (``Format:``, ``Language:``, ``Limit:``, ``Keywords:``,
``Details:``) so the sandbox twin can compose an answer from them.
"""

from __future__ import annotations

from typing import Literal

from herald.ai.checks import Language
from herald.ai.client import ChatMessage

PostFormat = Literal["selling", "collection", "info", "promo"]

FORMAT_LABELS: dict[str, str] = {
    "selling": "🔥 Selling",
    "collection": "📝 Collection",
    "info": "💡 Info",
    "promo": "⚡ Promo",
}

_LANGUAGE_RULES: dict[str, str] = {
    "hy": (
        "Write in Eastern Armenian, in Armenian script only: never transliterate Armenian into Latin letters "
        "and never switch to English or Russian. Use Armenian punctuation (։ for a full stop, ՝ , ՞ « »). "
        "Brand and model names (Nike, iPhone 15 Pro) may stay in Latin; everything else is Armenian."
    ),
    "ru": (
        "Write in Russian, in Cyrillic. Brand and model names may stay in Latin; everything else is Russian. "
        "Address readers politely with «вы»."
    ),
    "en": "Write in clear, natural English.",
}

_FORMAT_BRIEFS: dict[str, str] = {
    "selling": (
        "Format 🔥 Selling: a post that sells one product. Start with 🔥 and a catchy headline that names "
        "the product. Then 2-4 concrete benefits taken from the keywords and details, each on its own line "
        "starting with an emoji such as ✅. Mention price, sizes, colours or stock only if the editor gave "
        "them. Finish with a clear call to action to order (write to us, press the button)."
    ),
    "collection": (
        "Format 📝 Collection: a curated selection of several products around one theme. Start with 📝 and "
        "a headline naming the theme. Give each product from the keywords its own line with a bullet emoji "
        "and one short reason it is worth it. Close by inviting readers to pick their favourite and order."
    ),
    "info": (
        "Format 💡 Info: useful content without hard selling: a tip, a short buying guide, how to care for "
        "a product, or news about the shop. Start with 💡 and a headline. Then 2-3 short paragraphs or a "
        "numbered list of practical advice. At most one soft mention of the shop at the end."
    ),
    "promo": (
        "Format ⚡ Promo: a time-limited offer (a sale, a discount, a promo code, a giveaway). Start with ⚡ "
        "and put the offer in the headline. State the terms exactly as the editor gave them (discount, code, "
        "dates, conditions). Create urgency without exaggerating. End with a clear call to action."
    ),
}


def _system_prompt(*, post_format: PostFormat, language: Language, limit: int) -> str:
    target = "350 to 800" if limit <= 1024 else "500 to 1200"
    # Telegram counts UTF-16 units (an emoji is two) and models count loosely: ask for a tenth less
    headroom = limit - limit // 10
    return "\n\n".join(
        [
            "You are the copywriter of a Telegram channel of an online shop. You write one channel post at "
            "a time from the editor's keywords and notes. Posts are lively, warm and concrete, easy to read "
            "on a phone: a headline line, short paragraphs, a few emoji as visual markers (not in every "
            "sentence), and a call to action.",
            _LANGUAGE_RULES[language],
            _FORMAT_BRIEFS[post_format],
            "Rules: answer with the post only, with no preface, explanation or alternatives. Plain text: "
            "no Markdown (no ** or #headings), no HTML, no code blocks, no quotes around the post. Never "
            "invent prices, discounts, dates, addresses, phone numbers or links that are not in the "
            "editor's notes; if a price is not given, do not mention one. Put 2-4 relevant hashtags in the "
            f"post's language on the last line. The whole post must be under {headroom} characters, emoji "
            f"and hashtags included; aim for {target}.",
        ]
    )


def post_messages(
    *, post_format: PostFormat, keywords: str, details: str, language: Language, limit: int, media_kind: str
) -> list[ChatMessage]:
    """The system and user messages asking for one post."""
    media = "a caption under a " + media_kind if media_kind != "none" else "a text message without media"
    user = "\n".join(
        [
            "Write a post for our channel.",
            f"Format: {post_format}",
            f"Language: {language}",
            f"Limit: {limit}",
            f"Published as: {media}",
            f"Keywords: {' '.join(keywords.split())}",
            f"Details: {details.strip() or '(none)'}",
        ]
    )
    return [
        {
            "role": "system",
            "content": _system_prompt(post_format=post_format, language=language, limit=limit),
        },
        {"role": "user", "content": user},
    ]


def retry_messages(
    *, rejected_text: str, problems: list[str], language: Language, limit: int
) -> list[ChatMessage]:
    """What to add to the conversation after an unusable version: the version itself, then why it cannot be
    published and how to fix it."""
    hints = []
    if any("letters are" in problem for problem in problems):
        hints.append(
            "Write every word in Armenian script except brand names."
            if language == "hy"
            else "Write every word in the requested language except brand names."
        )
    if any("characters long" in problem for problem in problems):
        hints.append(f"Make it clearly shorter: under {limit} characters in total.")
    if any("empty" in problem or "cut off" in problem for problem in problems):
        hints.append("Write the complete post.")
    feedback = f"This version cannot be published: {'; '.join(problems)}. Write the post again. " + " ".join(
        hints
    )
    return [
        {"role": "assistant", "content": rejected_text[:1500]},  # enough for the model to see its mistake
        {"role": "user", "content": feedback.strip()},
    ]
