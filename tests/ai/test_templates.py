"""With no API key, the offline writer produces the post, per format and language, and says so."""

from __future__ import annotations

from typing import Any

import pytest

from herald.ai import GeneratedPost, post_generate, script_share, telegram_length
from herald.core.errors import InvalidInput

FORMATS = {"selling": "🔥", "collection": "📝", "info": "💡", "promo": "⚡"}
KEYWORDS = {
    "hy": "Ձմեռային բաճկոններ, շարֆեր, ձեռնոցներ",
    "ru": "Зимние куртки, шарфы, перчатки",
    "en": "Winter jackets, scarves, gloves",
}


@pytest.fixture(autouse=True)
def _no_key(settings: Any) -> None:
    settings.AI_API_KEY = ""
    settings.AI_BASE_URL = "http://127.0.0.1:9/v1"  # would fail if anything tried to call it


@pytest.mark.parametrize("language", ["hy", "ru", "en"])
@pytest.mark.parametrize("post_format", list(FORMATS))
def test_each_format_and_language_has_a_template(post_format: str, language: str) -> None:
    post = post_generate(format=post_format, keywords=KEYWORDS[language], language=language)  # type: ignore[arg-type]
    assert isinstance(post, GeneratedPost)
    assert (post.source, post.attempts) == ("template", 0)
    assert "template" in post.warnings[0]  # the review can say who wrote it
    assert post.text.startswith(FORMATS[post_format])
    for keyword in KEYWORDS[language].split(", "):
        assert keyword.lower() in post.text.lower()
    assert script_share(post.text, language=language) >= 0.7  # type: ignore[arg-type]


@pytest.mark.parametrize("post_format", list(FORMATS))
def test_armenian_stays_armenian_around_latin_brand_names(post_format: str) -> None:
    post = post_generate(format=post_format, keywords="Nike Air Max, Adidas Ultraboost", language="hy")  # type: ignore[arg-type]
    assert script_share(post.text, language="hy") >= 0.7
    assert "Nike Air Max" in post.text and "Adidas Ultraboost" in post.text


def test_details_are_used_and_cut_to_fit_a_caption() -> None:
    details = "Բնական կաշի, ձեռքի աշխատանք։ " * 60  # about 1800 characters
    post = post_generate(format="selling", keywords="Կաշվե պայուսակ", details=details, media_kind="photo")
    assert telegram_length(post.text) <= 1024
    assert "Բնական կաշի" in post.text and "…" in post.text
    assert post.text.rstrip().endswith("#Կաշվեպայուսակ")  # the call to action and hashtags survive the cut

    as_text = post_generate(format="selling", keywords="Կաշվե պայուսակ", details=details, media_kind="none")
    assert details.strip() in as_text.text and telegram_length(as_text.text) <= 4096


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"format": "poem"}, "post format"),
        ({"language": "de"}, "language"),
        ({"media_kind": "sticker"}, "media kind"),
        ({"keywords": "  "}, "keyword"),
        ({"details": "x" * 2001}, "Details"),
    ],
)
def test_bad_arguments_are_named(arguments: dict[str, Any], named: str) -> None:
    call: dict[str, Any] = {"format": "info", "keywords": "թեյ", **arguments}
    with pytest.raises(InvalidInput) as invalid:
        post_generate(**call)
    assert named in invalid.value.message
