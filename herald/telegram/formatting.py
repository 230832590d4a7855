"""Text for Telegram: HTML escaping for ``parse_mode=HTML``, clean splitting over the 4096-character limit,
and the 1024-character caption rule.

Lengths are counted in UTF-16 code units, as Telegram does, so an emoji counts two. HTML is measured as sent
(tags and entities included), which is never less than what Telegram counts after parsing it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

_TOKEN = re.compile(
    r"(?P<tag></?(?P<name>[a-zA-Z][a-zA-Z0-9-]*)(?:\s[^<>]*)?>)"
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});)"
    r"|(?P<char>[\s\S])"
)


def escape_html(text: str) -> str:
    """Text made safe to put between tags with ``parse_mode=HTML`` (``<``, ``>``, ``&``)."""
    return html.escape(text, quote=False)


def escape_html_attribute(text: str) -> str:
    """Text made safe inside a double-quoted attribute, e.g. ``<a href="...">``."""
    return html.escape(text, quote=True)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    length: int
    kind: str  # "char", "entity", "open" or "close"
    name: str = ""


def _tokens(text: str, *, html_mode: bool) -> list[_Token]:
    if not html_mode:
        return [_Token(char, 2 if ord(char) > 0xFFFF else 1, "char") for char in text]
    tokens = []
    for match in _TOKEN.finditer(text):
        piece = match.group(0)
        if match.group("tag"):
            kind = "close" if piece.startswith("</") else "open"
            tokens.append(_Token(piece, telegram_length(piece), kind, match.group("name").lower()))
        elif match.group("entity"):
            tokens.append(_Token(piece, len(piece), "entity"))
        else:
            tokens.append(_Token(piece, 2 if ord(piece) > 0xFFFF else 1, "char"))
    return tokens


def _closer(name: str) -> str:
    return f"</{name}>"


@dataclass
class _Stack:
    """The HTML elements open at a point: (name, opening tag) pairs, and the length of closing them all."""

    items: list[tuple[str, str]] = field(default_factory=list)
    closers: int = 0

    def copy(self) -> _Stack:
        return _Stack(list(self.items), self.closers)

    def apply(self, token: _Token) -> None:
        if token.kind == "open":
            self.items.append((token.name, token.text))
            self.closers += len(_closer(token.name))
        elif token.kind == "close" and any(name == token.name for name, _ in self.items):
            while self.items:
                name, _ = self.items.pop()
                self.closers -= len(_closer(name))
                if name == token.name:
                    break

    def opening(self) -> str:
        return "".join(tag for _, tag in self.items)

    def closing(self) -> str:
        return "".join(_closer(name) for name, _ in reversed(self.items))


# Where a cut looks cleanest: between paragraphs, then lines, then words.
_PARAGRAPH, _LINE, _WORD = 3, 2, 1


def split_text(text: str, limit: int = TEXT_LIMIT, *, html: bool = False) -> list[str]:
    """``text`` cut into parts of at most ``limit`` (Telegram length), in order.

    Cuts fall between paragraphs if possible, else between lines, else between words, else anywhere (but
    never inside an HTML tag or entity). Whitespace at a cut is dropped. With ``html=True`` elements open at
    a cut are closed at the end of the part and opened again at the start of the next, so every part is
    balanced. Raises ``ValueError`` if ``limit`` cannot hold even one character with its open tags.
    """
    if telegram_length(text) <= limit:
        return [text]
    tokens = _tokens(text, html_mode=html)
    count = len(tokens)
    parts: list[str] = []
    start, start_stack = 0, _Stack()
    while start < count and tokens[start].kind == "char" and tokens[start].text.isspace():
        start += 1
    while start < count:
        stack = start_stack.copy()
        prefix = stack.opening()
        length = telegram_length(prefix)
        best: dict[int, tuple[int, _Stack]] = {}
        seen_text = False
        previous = ""
        index = start
        while index < count:
            token = tokens[index]
            after = stack.copy() if token.kind in ("open", "close") else stack
            after.apply(token)
            if length + token.length + after.closers > limit:
                break
            length += token.length
            stack = after
            index += 1
            if token.kind == "char" and token.text.isspace():
                if seen_text:
                    level = _WORD
                    if token.text == "\n":
                        level = _PARAGRAPH if previous == "\n" else _LINE
                    best[level] = (index, stack.copy())
            elif token.kind in ("char", "entity"):
                seen_text = True
            if token.kind == "char":
                previous = token.text
        if index == count:
            parts.append(prefix + "".join(t.text for t in tokens[start:]) + stack.closing())
            break
        if best:
            cut, cut_stack = best[max(best)]
        elif index > start:
            cut, cut_stack = index, stack
        else:
            raise ValueError(f"a limit of {limit} cannot hold the text's open tags and one more character")
        body = "".join(t.text for t in tokens[start:cut]).rstrip()
        if any(t.kind != "char" or not t.text.isspace() for t in tokens[start:cut]):
            parts.append(prefix + body + cut_stack.closing())
        start, start_stack = cut, cut_stack
        while start < count and tokens[start].kind == "char" and tokens[start].text.isspace():
            start += 1
    return parts


def caption_fits(caption: str) -> bool:
    return telegram_length(caption) <= CAPTION_LIMIT


@dataclass(frozen=True)
class CaptionPlan:
    """How to send media with a text: as its caption, or the media bare followed by text messages."""

    caption: str | None
    follow_up: list[str]


def plan_caption(text: str, *, html: bool = False) -> CaptionPlan:
    if not text:
        return CaptionPlan(caption=None, follow_up=[])
    if caption_fits(text):
        return CaptionPlan(caption=text, follow_up=[])
    return CaptionPlan(caption=None, follow_up=split_text(text, TEXT_LIMIT, html=html))
