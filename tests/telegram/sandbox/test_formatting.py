"""Parse modes turn text into plain text + entities, and refuse malformed input with Telegram's words."""

from __future__ import annotations

import pytest
from telegram.helpers import escape_markdown

from herald.telegram.sandbox.errors import BotApiError
from herald.telegram.sandbox.formatting import bot_command_entities, parse_html, parse_markdown


def test_html_nesting_pre_with_language_and_spoilers() -> None:
    text, entities = parse_html(
        '<b>a <i>b</i></b> <pre><code class="language-python">x = 1</code></pre> '
        '<span class="tg-spoiler">s</span> <blockquote expandable>q</blockquote>'
    )
    assert text == "a b x = 1 s q"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 3},
        {"type": "italic", "offset": 2, "length": 1},
        {"type": "pre", "offset": 4, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 10, "length": 1},
        {"type": "expandable_blockquote", "offset": 12, "length": 1},
    ]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("</b>", "Unexpected end tag at byte offset 0"),
        ("1 < 2", "Unclosed start tag at byte offset 2"),
        ("<script>x</script>", 'Unsupported start tag "script" at byte offset 0'),
    ],
)
def test_malformed_html_is_refused(source: str, error: str) -> None:
    with pytest.raises(BotApiError) as caught:
        parse_html(source)
    assert caught.value.description == f"Bad Request: can't parse entities: {error}"


def test_markdown_v2_entities_and_escapes() -> None:
    text, entities = parse_markdown(
        r"*bold* _it_ __under__ ~gone~ ||secret|| [link](https://x.example/a\)b) `co\`de` 1\.5\!", v2=True
    )
    assert text == "bold it under gone secret link co`de 1.5!"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 5, "length": 2},
        {"type": "underline", "offset": 8, "length": 5},
        {"type": "strikethrough", "offset": 14, "length": 4},
        {"type": "spoiler", "offset": 19, "length": 6},
        {"type": "text_link", "offset": 26, "length": 4, "url": "https://x.example/a)b"},
        {"type": "code", "offset": 31, "length": 5},
    ]
    block, pre = parse_markdown("```python\nprint(1)\n```", v2=True)
    assert block == "print(1)\n" and pre == [{"type": "pre", "offset": 0, "length": 9, "language": "python"}]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("Price: 1.5", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("go `code", "Can't find end of Code entity at byte offset 3"),
    ],
)
def test_malformed_markdown_v2_is_refused(source: str, error: str) -> None:
    with pytest.raises(BotApiError) as caught:
        parse_markdown(source, v2=True)
    assert caught.value.description == f"Bad Request: can't parse entities: {error}"


def test_text_escaped_by_ptb_comes_back_unchanged() -> None:
    original = "Deal: 50% off! (today only) - see [terms] #sale a_b*c~d`e>f|g{h}i.j=k+l"
    text, entities = parse_markdown(escape_markdown(original, version=2), v2=True)
    assert (text, entities) == (original, [])


def test_legacy_markdown() -> None:
    assert parse_markdown("*b* _i_ 1.5 [x](http://e.example)", v2=False) == (
        "b i 1.5 x",
        [
            {"type": "bold", "offset": 0, "length": 1},
            {"type": "italic", "offset": 2, "length": 1},
            {"type": "text_link", "offset": 8, "length": 1, "url": "http://e.example"},
        ],
    )


def test_bot_commands_are_found_anywhere_in_a_message() -> None:
    assert bot_command_entities("/start a and /help@shop_bot, not a/path") == [
        {"type": "bot_command", "offset": 0, "length": 6},
        {"type": "bot_command", "offset": 13, "length": 14},
    ]
