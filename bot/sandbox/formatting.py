"""parse_mode=HTML as Telegram does it: plain text plus entities, or a 400 on bad markup.

Catching unescaped user text in HTML messages ("can't parse entities") is one of
the bugs the stand-in exists to find, so the check is strict like Telegram's.
MarkdownV2 and Markdown are passed through unparsed (a known simplification).
"""
from __future__ import annotations

import html
import re
from typing import Any

from .errors import bad_request

__all__ = ["apply_parse_mode"]

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^>]*)?)\s*/?>")
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_CHAR_REF = re.compile(r"&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")

_SIMPLE = {
    "b": "bold", "strong": "bold",
    "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "code": "code", "pre": "pre", "blockquote": "blockquote",
}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entity_for(tag: str, attrs: dict[str, str], byte_offset: int) -> dict[str, Any]:
    if tag in _SIMPLE:
        kind = _SIMPLE[tag]
        if tag == "blockquote" and "expandable" in attrs:
            kind = "expandable_blockquote"
        return {"type": kind}
    if tag == "span" and attrs.get("class") == "tg-spoiler":
        return {"type": "spoiler"}
    if tag == "a":
        href = attrs.get("href", "")
        match = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if match:
            return {"type": "text_mention", "user": {"id": int(match.group(1)), "is_bot": False, "first_name": ""}}
        return {"type": "text_link", "url": href}
    if tag == "tg-emoji":
        return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
    raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset {byte_offset}')


def _parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    length = 0  # of the plain text so far, in UTF-16 units as Telegram counts offsets
    open_tags: list[tuple[str, int, dict[str, Any]]] = []
    entities: list[dict[str, Any]] = []
    index = 0

    def emit(text: str) -> None:
        nonlocal length
        out.append(text)
        length += _utf16_len(text)

    while index < len(source):
        char = source[index]
        if char == "<":
            byte_offset = len(source[:index].encode())
            match = _TAG.match(source, index)
            if not match:
                raise bad_request(f'can\'t parse entities: Unsupported start tag "" at byte offset {byte_offset}')
            closing, tag, attr_text = match.group(1), match.group(2).lower(), match.group(3)
            if closing:
                if not open_tags or open_tags[-1][0] != tag:
                    raise bad_request(
                        f'can\'t parse entities: Unmatched end tag at byte offset {byte_offset}, expected "'
                        f'</{open_tags[-1][0] if open_tags else ""}>", found "</{tag}>"'
                    )
                _, start, entity = open_tags.pop()
                if length > start:
                    entity.update(offset=start, length=length - start)
                    if entity["type"] == "code" and open_tags and open_tags[-1][2]["type"] == "pre":
                        # <pre><code class="language-x"> is one pre entity with a language.
                        language = entity.get("_language")
                        if language:
                            open_tags[-1][2]["language"] = language
                    else:
                        entities.append(entity)
                entity.pop("_language", None)
            else:
                attrs = {m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
                         for m in _ATTR.finditer(attr_text)}
                entity = _entity_for(tag, attrs, byte_offset)
                if tag == "code" and attrs.get("class", "").startswith("language-"):
                    entity["_language"] = attrs["class"].removeprefix("language-")
                open_tags.append((tag, length, entity))
            index = match.end()
        elif char == "&":
            match = _CHAR_REF.match(source, index)
            if match:
                emit(html.unescape(match.group(0)))
                index = match.end()
            else:
                emit("&")  # Telegram leaves an unknown '&' as it is
                index += 1
        else:
            next_special = min((i for i in (source.find("<", index), source.find("&", index)) if i != -1),
                               default=len(source))
            emit(source[index:next_special])
            index = next_special
    if open_tags:
        raise bad_request(f'can\'t parse entities: Can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def apply_parse_mode(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The plain text and entities a message ends up with."""
    if parse_mode and parse_mode.upper() == "HTML":
        return _parse_html(text)
    return text, []
