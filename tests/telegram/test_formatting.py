from __future__ import annotations

import html as html_lib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.telegram.formatting import (
    CAPTION_LIMIT,
    caption_fits,
    escape_html,
    escape_html_attribute,
    plan_caption,
    split_text,
    telegram_length,
)

_WS = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _WS.sub("", text)


def _visible(html_text: str) -> str:
    return html_lib.unescape(re.sub(r"<[^<>]*>", "", html_text))


def _balanced(html_text: str) -> bool:
    stack: list[str] = []
    for closing, name in re.findall(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*>", html_text):
        if closing:
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def test_escape_html_makes_markup_inert() -> None:
    assert escape_html('<b>Tom & "Jerry"</b>') == '&lt;b&gt;Tom &amp; "Jerry"&lt;/b&gt;'
    assert escape_html_attribute('x" onclick="y') == "x&quot; onclick=&quot;y"


def test_short_text_is_one_part_unchanged() -> None:
    assert split_text("hello  world\n") == ["hello  world\n"]


def test_prefers_paragraphs_then_lines_then_words() -> None:
    text = "first paragraph here\n\nsecond one\nwith two lines"
    assert split_text(text, 30) == ["first paragraph here", "second one\nwith two lines"]
    assert split_text("aaa bbb\nccc ddd eee", 12) == ["aaa bbb", "ccc ddd eee"]
    assert split_text("aaa bbb ccc ddd", 8) == ["aaa bbb", "ccc ddd"]
    assert split_text("abcdefghij", 4) == ["abcd", "efgh", "ij"]


def test_emoji_count_two_units_like_telegram() -> None:
    assert telegram_length("😀a") == 3
    parts = split_text("😀" * 5, 4)
    assert parts == ["😀😀", "😀😀", "😀"]


def test_html_tags_are_closed_and_reopened_across_parts() -> None:
    text = "<b>bold words <i>and italic ones</i> here</b> &amp; plain"
    parts = split_text(text, 30, html=True)
    assert all(telegram_length(part) <= 30 for part in parts)
    assert all(_balanced(part) for part in parts)
    assert parts[0].startswith("<b>")
    assert _squash("".join(_visible(p) for p in parts)) == _squash(_visible(text))
    for part in parts:  # never inside a tag or an entity
        assert not re.search(r"<[^>]*$|&[a-z#0-9]*$", part)


def test_a_limit_too_small_for_the_open_tags_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        split_text('<a href="https://example.com/very/long">link text</a>', 20, html=True)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab cd\n\n\t😀é")), max_size=400),
    limit=st.integers(min_value=2, max_value=60),
)
def test_plain_split_properties(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    assert all(telegram_length(part) <= limit for part in parts)
    assert _squash("".join(parts)) == _squash(text)
    if len(parts) > 1:
        assert all(part.strip() for part in parts)
    # each part is the next piece of the text, with only whitespace dropped between them
    position = 0
    for part in parts:
        found = text.find(part, position)
        assert found >= 0 and text[position:found].strip() == ""
        position = found + len(part)
    assert text[position:].strip() == ""


_words = st.text(alphabet=st.sampled_from(list("xyz <>&\n😀")), min_size=1, max_size=25)


@st.composite
def _html_documents(draw: st.DrawFn, depth: int = 0) -> str:
    pieces = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 3 and draw(st.booleans()):
            tag = draw(st.sampled_from(["b", "i", "code", 'a href="https://e.x/?a=1&amp;b=2"']))
            name = tag.split()[0]
            pieces.append(f"<{tag}>{draw(_html_documents(depth + 1))}</{name}>")
        else:
            pieces.append(escape_html(draw(_words)))
    return "".join(pieces)


@settings(max_examples=200, deadline=None)
@given(text=_html_documents(), limit=st.integers(min_value=160, max_value=300))
def test_html_split_properties(text: str, limit: int) -> None:
    parts = split_text(text * 4, limit, html=True)
    assert all(telegram_length(part) <= limit for part in parts)
    assert all(_balanced(part) for part in parts)
    assert _squash("".join(_visible(part) for part in parts)) == _squash(_visible(text * 4))


def test_caption_plan_keeps_short_captions_and_moves_long_ones_to_messages() -> None:
    short = "a" * CAPTION_LIMIT
    assert caption_fits(short)
    assert plan_caption(short).caption == short
    long = "word " * 1000
    plan = plan_caption(long)
    assert not caption_fits(long)
    assert plan.caption is None
    assert len(plan.follow_up) == 2
    assert _squash("".join(plan.follow_up)) == _squash(long)
    assert plan_caption("").caption is None
