"""Splitting an HTML message under Telegram's length limit (escaping, msgids and dates are in
`bot.text`, which services use too)."""

from __future__ import annotations

import re

TELEGRAM_TEXT_LIMIT = 4096

_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")


def _open_tags_after(text: str, stack: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The tags still open after `text`, given those open before it: (name, full opening tag)."""
    stack = list(stack)
    for match in _TAG_RE.finditer(text):
        closing, name = match.group(1), match.group(2).lower()
        if not closing:
            stack.append((name, match.group(0)))
            continue
        for i in range(len(stack) - 1, -1, -1):
            if stack[i][0] == name:
                del stack[i:]
                break
    return stack


def _closers(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _openers(stack: list[tuple[str, str]]) -> str:
    return "".join(tag for _, tag in stack)


def _hard_pieces(line: str, limit: int) -> list[str]:
    """Cut one over-long line, never inside a tag or an entity like &amp;."""
    pieces: list[str] = []
    while len(line) > limit:
        cut = limit
        lt, gt = line.rfind("<", 0, cut), line.rfind(">", 0, cut)
        if lt > gt:  # the cut would fall inside a tag
            cut = lt
        amp, semi = line.rfind("&", 0, cut), line.rfind(";", 0, cut)
        if amp > semi and cut - amp <= 10:
            cut = amp
        space = line.rfind(" ", max(0, cut - 200), cut)
        if space > 0:
            cut = space + 1
        if cut <= 0:
            cut = limit
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split an HTML message into parts of at most `limit` characters, on line boundaries.

    A tag open across a cut is closed at the end of one part and reopened at the start of the next,
    so each part is valid HTML on its own. Lines longer than a part are cut at a space.
    """
    if len(text) <= limit:
        return [text]
    # Room for closing and reopening tags that span a cut.
    budget = max(limit - 200, limit // 2)
    parts: list[str] = []
    current = ""  # starts with the openers of the tags still open from the previous part
    for raw_line in text.split("\n"):
        for piece in _hard_pieces(raw_line, budget):
            candidate = piece if not current else current + "\n" + piece
            if len(candidate) <= budget or not current:
                current = candidate
                continue
            still_open = _open_tags_after(current, [])
            parts.append(current + _closers(still_open))
            current = _openers(still_open) + piece
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()] or [text[:limit]]
