"""A strict parser for Telegram's HTML parse mode.

Telegram rejects unknown or unbalanced tags with "can't parse entities"; a bot that forgets to escape a
user's "<" fails in production, so the emulator must fail the same way. It also returns the plain text
and the entities (offsets in UTF-16 code units) because that is what Telegram stores and echoes back.
"""

from __future__ import annotations

import html
import re
from typing import Any

from .errors import ApiError

_TAGS = {
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
_NAME = re.compile(r"[^\s>]*")
_ATTR = re.compile(r"\s*([A-Za-z-]+)\s*(?:=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});")


def _error(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {reason}")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Return (plain text, entities) or raise the ApiError Telegram would answer with."""
    out: list[str] = []
    utf16 = 0
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "&":
            m = _ENTITY.match(source, i)
            piece = html.unescape(m.group(0)) if m else "&"
            i = m.end() if m else i + 1
            out.append(piece)
            utf16 += _utf16_len(piece)
            continue
        if ch != "<":
            out.append(ch)
            utf16 += _utf16_len(ch)
            i += 1
            continue
        start = i
        closing = source.startswith("</", i)
        i += 2 if closing else 1
        m = _NAME.match(source, i)
        name = m.group(0).lower() if m else ""
        i = m.end() if m else i
        end = source.find(">", i)
        if closing and not stack:
            raise _error(f"Unexpected end tag at byte offset {_byte_offset(source, start)}")
        if not closing and i < n and name not in _TAGS:
            raise _error(f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, start)}')
        if end < 0 or (closing and source[i:end].strip()):
            kind = "end" if closing else "start"
            raise _error(f"Unclosed {kind} tag at byte offset {_byte_offset(source, start)}")
        if closing:
            open_name, offset, attrs = stack.pop()
            if name and open_name != name:
                raise _error(
                    f"Unmatched end tag at byte offset {_byte_offset(source, start)}, expected "
                    f'"</{open_name}>", found "</{name}>"'
                )
            name = open_name
            length = utf16 - offset
            if length > 0:
                entity: dict[str, Any] = {"type": _TAGS[name], "offset": offset, "length": length}
                if name == "a":
                    entity["url"] = attrs.get("href", "")
                if name == "pre" and attrs.get("language"):
                    entity["language"] = attrs["language"]
                if name == "blockquote" and "expandable" in attrs:
                    entity["type"] = "expandable_blockquote"
                entities.append(entity)
            i = end + 1
            continue
        if name not in _TAGS:
            raise _error(f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, start)}')
        attrs = {
            a.group(1).lower(): a.group(2) or a.group(3) or a.group(4) or ""
            for a in _ATTR.finditer(source[i:end])
            if a.group(1)
        }
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _error(f'Unsupported start tag "span" at byte offset {_byte_offset(source, start)}')
        if name == "code" and stack and stack[-1][0] == "pre" and "class" in attrs:
            stack[-1][2]["language"] = attrs["class"].removeprefix("language-")
        stack.append((name, utf16, attrs))
        i = end + 1
    if stack:
        raise _error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities
