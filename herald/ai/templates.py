"""The offline writer: a decent post per format and language from the editor's keywords and details, with
no AI service at all (no key configured, the sandbox, a demo). Used by ``post_generate`` and by the sandbox
twin's "ok" answers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from herald.ai.checks import MIN_SCRIPT_SHARE, Language, script_share, telegram_length
from herald.ai.prompts import PostFormat


@dataclass(frozen=True)
class _Template:
    headline: str  # "{title}" is the first keyword (a collection lists them all below instead)
    default_details: str  # when the editor gave none
    lines: tuple[str, ...]  # fixed lines after the details ("{items}" marks where a collection's list goes)
    closing: str


_TEMPLATES: dict[tuple[str, str], _Template] = {
    ("selling", "hy"): _Template(
        "🔥 {title}",
        "Նորույթ մեր խանութում՝ եղեք առաջինը, ով այն կունենա։",
        (
            "✅ Որակ, որին կարելի է վստահել",
            "✅ Ընտրված հատուկ մեր հաճախորդների համար",
            "✅ Հասանելի է հենց հիմա",
        ),
        "🛒 Պատվիրելու համար գրեք մեզ հաղորդագրությամբ։",
    ),
    ("collection", "hy"): _Template(
        "📝 Մեր ընտրանին ձեզ համար",
        "Հավաքել ենք ամենալավը մեկ գրառման մեջ։",
        ("{items}",),
        "💬 Ո՞րն է ձեր ընտրությունը։ Գրեք մեզ, և մենք կօգնենք պատվիրել։",
    ),
    ("info", "hy"): _Template(
        "💡 Օգտակար է իմանալ՝ {title}",
        "Կիսվում ենք խորհուրդներով, որոնք կօգնեն ճիշտ ընտրություն կատարել։",
        ("{items}",),
        "📌 Պահպանեք գրառումը, որ միշտ ձեռքի տակ լինի, և կիսվեք ընկերների հետ։",
    ),
    ("promo", "hy"): _Template(
        "⚡ Ակցիա՝ {title}",
        "Հատուկ առաջարկ մեր ալիքի բաժանորդների համար։",
        ("{items}", "⏳ Առաջարկը սահմանափակ է՝ մի՛ բաց թողեք։"),
        "📩 Մանրամասների համար գրեք մեզ։",
    ),
    ("selling", "ru"): _Template(
        "🔥 {title}",
        "Новинка в нашем магазине: будьте первыми, у кого она появится!",
        (
            "✅ Качество, которому можно доверять",
            "✅ Отобрано специально для наших покупателей",
            "✅ Уже в наличии",
        ),
        "🛒 Чтобы заказать, напишите нам в личные сообщения.",
    ),
    ("collection", "ru"): _Template(
        "📝 Наша подборка для вас",
        "Собрали лучшее в одном посте.",
        ("{items}",),
        "💬 Что выберете вы? Напишите нам, и мы поможем с заказом.",
    ),
    ("info", "ru"): _Template(
        "💡 Полезно знать: {title}",
        "Делимся советами, которые помогут сделать правильный выбор.",
        ("{items}",),
        "📌 Сохраните пост, чтобы не потерять, и поделитесь с друзьями.",
    ),
    ("promo", "ru"): _Template(
        "⚡ Акция: {title}",
        "Специальное предложение для подписчиков канала.",
        ("{items}", "⏳ Предложение ограничено, не упустите!"),
        "📩 Подробности в личных сообщениях.",
    ),
    ("selling", "en"): _Template(
        "🔥 {title}",
        "New in our shop: be the first to get it!",
        ("✅ Quality you can trust", "✅ Picked especially for our customers", "✅ In stock right now"),
        "🛒 To order, send us a message.",
    ),
    ("collection", "en"): _Template(
        "📝 Our picks for you",
        "We gathered the best in one post.",
        ("{items}",),
        "💬 Which one is yours? Message us and we will help you order.",
    ),
    ("info", "en"): _Template(
        "💡 Good to know: {title}",
        "A few tips to help you choose well.",
        ("{items}",),
        "📌 Save this post for later and share it with friends.",
    ),
    ("promo", "en"): _Template(
        "⚡ Special offer: {title}",
        "A special deal for our channel's subscribers.",
        ("{items}", "⏳ The offer is limited, don't miss it!"),
        "📩 Message us for the details.",
    ),
}

_FORMAT_TAGS = {
    ("selling", "hy"): "#նորույթ",
    ("collection", "hy"): "#ընտրանի",
    ("info", "hy"): "#խորհուրդ",
    ("promo", "hy"): "#ակցիա",
    ("selling", "ru"): "#новинка",
    ("collection", "ru"): "#подборка",
    ("info", "ru"): "#советы",
    ("promo", "ru"): "#акция",
    ("selling", "en"): "#new",
    ("collection", "en"): "#picks",
    ("info", "en"): "#tips",
    ("promo", "en"): "#sale",
}
_BULLETS = {"collection": "▫️", "info": "🔹", "promo": "🎁"}
_MAX_HASHTAGS = 4


def _keyword_list(keywords: str) -> list[str]:
    # editors type "a, b, c", one per line, or "a; b"
    parts = [" ".join(part.split()) for part in re.split(r"[,;\n]+", keywords)]
    return [part for part in parts if part]


def _hashtag(keyword: str) -> str:
    return "#" + re.sub(r"\W+", "", keyword.title() if keyword.isascii() else keyword)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _shortened(text: str, room: int) -> str:
    if telegram_length(text) <= room:
        return text
    cut = text[: max(room - 1, 0)]  # a character is at least one UTF-16 unit: start from there
    while cut and telegram_length(cut) > max(room - 1, 0):
        cut = cut[:-1]
    return cut.rstrip() + "…" if cut else ""


def post_write_from_template(
    *, post_format: PostFormat, keywords: str, details: str, language: Language, limit: int
) -> str:
    """A post built from the format's and language's template, within ``limit`` (Telegram's UTF-16 count)."""
    template = _TEMPLATES[(post_format, language)]
    words = _keyword_list(keywords) or [keywords.strip() or "…"]
    title = _capitalized(words[0])
    items = words if post_format == "collection" else words[1:]
    bullet = _BULLETS.get(post_format, "✅")
    item_lines = "\n".join(f"{bullet} {_capitalized(item)}" for item in items)
    body_lines = [line.replace("{items}", item_lines) for line in template.lines]
    if post_format == "selling" and items:
        body_lines = [f"✅ {_capitalized(item)}" for item in items] + list(template.lines)
    # the format's own tag first; keywords become tags only when written in the post's script, so brand
    # names (already in the text) do not tip a short Armenian post into mostly Latin
    native = [word for word in words if script_share(word, language=language) >= MIN_SCRIPT_SHARE]
    tags = [_FORMAT_TAGS[(post_format, language)], *map(_hashtag, native)]
    hashtags = " ".join(dict.fromkeys(tag for tag in tags if len(tag) > 1))
    hashtags = " ".join(hashtags.split()[:_MAX_HASHTAGS])

    def assemble(details_text: str) -> str:
        blocks = [
            template.headline.format(title=title),
            details_text,
            "\n".join(line for line in body_lines if line),
            template.closing,
            hashtags,
        ]
        return "\n\n".join(block for block in blocks if block.strip())

    given = details.strip() or template.default_details
    skeleton = telegram_length(assemble(""))
    text = assemble(_shortened(given, limit - skeleton - 2))
    # a very long keyword list can outgrow even a caption on its own: cut the end, never exceed the limit
    return _shortened(text, limit)
