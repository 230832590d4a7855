"""The publishability checks: script share, Telegram's length count, and the clean-up of model wrappers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from herald.ai.checks import (
    MIN_SCRIPT_SHARE,
    model_text_clean,
    post_problems,
    script_share,
    telegram_length,
)

ARMENIAN_LETTERS = st.characters(min_codepoint=0x0531, max_codepoint=0x0587).filter(str.isalpha)
LATIN_LETTERS = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
NOT_LETTERS = st.sampled_from(" \n0123456789.,!?-–:;()%+/#🔥📝💡⚡✅🛒։՝՞«»")


def test_a_real_armenian_post_with_brand_names_passes() -> None:
    post = (
        "🔥 Նոր Nike Air Max 270 մեր խանութում\n\n"
        "✅ Թեթև և հարմարավետ ամեն օրվա համար\n✅ Չափսեր՝ 38-45\n\n"
        "🛒 Պատվիրեք հիմա՝ https://shop.example.am/nike @timetoshop\n\n#Nike #նորույթ"
    )
    assert script_share(post, language="hy") > 0.8
    assert post_problems(post, language="hy", limit=1024) == []


def test_transliterated_armenian_fails_and_says_why() -> None:
    post = "🔥 Nor apranq mer khanutum! Patvireq hima."
    assert script_share(post, language="hy") == 0.0
    assert post_problems(post, language="hy", limit=4096) == [
        "only 0% of the letters are Armenian (at least 70% needed)"
    ]


def test_links_and_mentions_do_not_count_as_letters() -> None:
    assert script_share("Գնեք https://example.com/very/long/latin/path @latin_shop", language="hy") == 1.0


def test_other_languages_have_their_own_script() -> None:
    assert script_share("Новая коллекция уже в продаже", language="ru") == 1.0
    assert script_share("Новая коллекция", language="en") == 0.0
    assert script_share("New collection", language="en") == 1.0


@given(armenian=st.lists(ARMENIAN_LETTERS, max_size=60), latin=st.lists(LATIN_LETTERS, max_size=60))
def test_share_is_the_armenian_fraction_of_the_letters(armenian: list[str], latin: list[str]) -> None:
    text = " ".join(armenian) + " " + " ".join(latin)
    share = script_share(text, language="hy")
    total = len(armenian) + len(latin)
    assert share == (len(armenian) / total if total else 0.0)
    if not total:
        return  # no letters: an empty post, reported as such
    problems = post_problems(text, language="hy", limit=10**6)
    assert any("letters are Armenian" in problem for problem in problems) == (share < MIN_SCRIPT_SHARE)


@given(letters=st.lists(st.one_of(ARMENIAN_LETTERS, LATIN_LETTERS), min_size=1), noise=st.lists(NOT_LETTERS))
def test_digits_emoji_and_punctuation_do_not_move_the_share(letters: list[str], noise: list[str]) -> None:
    text = "".join(letters)
    assert script_share(text + "".join(noise), language="hy") == script_share(text, language="hy")


def test_telegram_counts_utf16_units() -> None:
    assert telegram_length("Բարև") == 4
    assert telegram_length("🔥") == 2  # outside the basic plane: a surrogate pair
    assert post_problems("🔥" * 513, language="en", limit=1024)[0].startswith(
        "the text is 1026 characters long"
    )


def test_limits_name_message_or_caption() -> None:
    assert "for a caption" in post_problems("ա" * 1025, language="hy", limit=1024)[0]
    assert "for a message" in post_problems("ա" * 4097, language="hy", limit=4096)[0]
    assert post_problems("   \n", language="hy", limit=4096) == ["the text is empty"]


def test_wrappers_are_removed_but_inner_quotes_stay() -> None:
    assert model_text_clean('```text\n"Բարև ձեզ"\n```') == "Բարև ձեզ"
    assert model_text_clean("«Բարև ձեզ»") == "Բարև ձեզ"
    assert model_text_clean("«Nike» խանութում նոր «Puma»") == "«Nike» խանութում նոր «Puma»"
    assert model_text_clean("**Ակցիա** այսօր") == "Ակցիա այսօր"
