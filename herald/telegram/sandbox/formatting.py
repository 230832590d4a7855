"""Telegram's text formatting: HTML parse mode to plain text + entities, and bot_command detection.

Entity offsets and lengths count UTF-16 code units, as Telegram's do.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from herald.telegram.sandbox.errors import bad_request

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTRIBUTE = re.compile(r"""([a-zA-Z_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_BOT_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    start: int
    attrs: dict[str, str] = field(default_factory=dict)


def _cant_parse(detail: str) -> Exception:
    return bad_request(f"can't parse entities: {detail}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _entity_for(open_tag: _Open, length: int) -> dict[str, Any] | None:
    kind = _HTML_TAGS[open_tag.tag]
    entity: dict[str, Any] = {"type": kind, "offset": open_tag.start, "length": length}
    if open_tag.tag == "a":
        url = open_tag.attrs.get("href", "")
        if not url:
            return None  # Telegram drops links without a target and keeps their text
        entity["url"] = url
    elif open_tag.tag == "span" and open_tag.attrs.get("class") != "tg-spoiler":
        return None
    elif open_tag.tag == "tg-emoji":
        entity["custom_emoji_id"] = open_tag.attrs.get("emoji-id", "")
    elif open_tag.tag == "blockquote" and "expandable" in open_tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif open_tag.tag == "code" and open_tag.attrs.get("class", "").startswith("language-"):
        entity["language"] = open_tag.attrs["class"].removeprefix("language-")
    return entity


def _parse_attributes(source: str) -> dict[str, str]:
    attrs = {
        m.group(1).lower(): html.unescape(next(g for g in m.groups()[1:] if g is not None))
        for m in _ATTRIBUTE.finditer(source)
    }
    # bare attributes such as <blockquote expandable>
    for word in _ATTRIBUTE.sub(" ", source).split():
        attrs.setdefault(word.lower(), "")
    return attrs


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities for ``text`` in HTML parse mode; 400 "can't parse entities" when malformed."""
    out: list[str] = []
    units = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "<":
            end = text.find(">", i)
            if end == -1:
                raise _cant_parse(f"Unclosed start tag at byte offset {_byte_offset(text, i)}")
            inner = text[i + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise _cant_parse(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
                top = stack.pop()
                if top.tag != name:
                    raise _cant_parse(
                        f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                        f'expected "</{top.tag}>", found "</{name}>"'
                    )
                entity = _entity_for(top, units - top.start)
                if entity is not None and entity["length"] > 0:
                    entities.append(entity)
            else:
                name, _, rest = inner.strip().partition(" ")
                name = name.lower()
                if name not in _HTML_TAGS:
                    raise _cant_parse(
                        f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}'
                    )
                stack.append(_Open(tag=name, start=units, attrs=_parse_attributes(rest)))
            i = end + 1
            continue
        if char == "&":
            end = text.find(";", i, i + 12)
            if end != -1:
                name = text[i + 1 : end]
                decoded = _decode_entity(name)
                if decoded is not None:
                    out.append(decoded)
                    units += utf16_len(decoded)
                    i = end + 1
                    continue
        out.append(char)
        units += 2 if ord(char) > 0xFFFF else 1
        i += 1
    if stack:
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return "".join(out), _merge_pre_code(entities)


def _decode_entity(name: str) -> str | None:
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name]
    try:
        if name.startswith(("#x", "#X")):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
    except (ValueError, OverflowError):
        return None
    return None


def _merge_pre_code(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``<pre><code class="language-x">`` is one ``pre`` entity with a language, as Telegram answers."""
    pres = {(e["offset"], e["length"]): e for e in entities if e["type"] == "pre"}
    merged = []
    for entity in entities:
        pre = pres.get((entity["offset"], entity["length"]))
        if entity["type"] == "code" and pre is not None:
            if "language" in entity:
                pre["language"] = entity["language"]
            continue
        if entity["type"] == "code":
            entity.pop("language", None)
        merged.append(entity)
    merged.sort(key=lambda e: (e["offset"], -e["length"]))
    return merged


def bot_command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities for every ``/command`` in a user's text, as Telegram adds them."""
    entities = []
    for match in _BOT_COMMAND.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group(0)),
            }
        )
    return entities


# --- Markdown ------------------------------------------------------------------------------------

_MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MD1_RESERVED = set("_*`[")
_MD_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
}


@dataclass
class _Markdown:
    text: str
    v2: bool
    out: list[str] = field(default_factory=list)
    units: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)
    open: list[tuple[str, int, int]] = field(default_factory=list)  # kind, start in units, byte offset

    def emit(self, chars: str) -> None:
        self.out.append(chars)
        self.units += utf16_len(chars)

    def toggle(self, kind: str, index: int) -> None:
        for position in range(len(self.open) - 1, -1, -1):
            if self.open[position][0] == kind:
                _, start, _ = self.open.pop(position)
                if self.units > start:
                    self.entities.append({"type": kind, "offset": start, "length": self.units - start})
                return
        self.open.append((kind, self.units, _byte_offset(self.text, index)))

    def reserved(self, char: str) -> Exception:
        return _cant_parse(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")

    def until(self, index: int, closing: str, kind: str) -> tuple[str, int]:
        """Raw contents up to an unescaped ``closing``, with ``\\`` escapes resolved; and where it ends."""
        chars: list[str] = []
        i = index
        while i < len(self.text):
            if self.text.startswith(closing, i):
                return "".join(chars), i + len(closing)
            if self.text[i] == "\\" and self.v2 and i + 1 < len(self.text):
                chars.append(self.text[i + 1])
                i += 2
                continue
            chars.append(self.text[i])
            i += 1
        if self.v2:
            raise _cant_parse(
                f"Can't find end of {kind} entity at byte offset {_byte_offset(self.text, index - 1)}"
            )
        raise _cant_parse(
            f"Can't find end of the entity starting at byte offset {_byte_offset(self.text, index - 1)}"
        )


def parse_markdown(text: str, *, v2: bool) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities for Markdown (legacy) or MarkdownV2, refusing what Telegram refuses."""
    md = _Markdown(text=text, v2=v2)
    reserved = _MD2_RESERVED if v2 else _MD1_RESERVED
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and ((v2 and 0 < ord(text[i + 1]) < 127) or text[i + 1] in reserved):
            md.emit(text[i + 1])
            i += 2
        elif char == "`":
            if text.startswith("```", i):
                body, i = md.until(i + 3, "```", "Pre")
                first, newline, rest = body.partition("\n")
                language = first.strip() if newline and first.strip() and " " not in first.strip() else ""
                code = rest if language else body
                entity: dict[str, Any] = {"type": "pre", "offset": md.units, "length": utf16_len(code)}
                if language:
                    entity["language"] = language
            else:
                code, i = md.until(i + 1, "`", "Code")
                entity = {"type": "code", "offset": md.units, "length": utf16_len(code)}
            md.emit(code)
            if code:
                md.entities.append(entity)
        elif char == "*":
            md.toggle("bold", i)
            i += 1
        elif char == "_":
            if v2 and text.startswith("__", i):
                md.toggle("underline", i)
                i += 2
            else:
                md.toggle("italic", i)
                i += 1
        elif v2 and char == "~":
            md.toggle("strikethrough", i)
            i += 1
        elif v2 and text.startswith("||", i):
            md.toggle("spoiler", i)
            i += 2
        elif char == "[":
            md.open.append(("text_link", md.units, _byte_offset(text, i)))
            i += 1
        elif char == "]" and any(kind == "text_link" for kind, _, _ in md.open):
            if not text.startswith("(", i + 1):
                if v2:
                    raise md.reserved("]")
                md.emit("]")
                i += 1
                continue
            url, i = md.until(i + 2, ")", "TextUrl")
            position = max(p for p, (kind, _, _) in enumerate(md.open) if kind == "text_link")
            _, start, _ = md.open.pop(position)
            if md.units > start and url:
                md.entities.append(
                    {"type": "text_link", "offset": start, "length": md.units - start, "url": url}
                )
        elif v2 and char in reserved:
            raise md.reserved(char)
        else:
            md.emit(char)
            i += 1
    if md.open:
        kind, _, offset = md.open[-1]
        if v2:
            raise _cant_parse(f"Can't find end of {_MD_NAMES[kind]} entity at byte offset {offset}")
        raise _cant_parse(f"Can't find end of the entity starting at byte offset {offset}")
    md.entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(md.out), md.entities
