"""Text helpers every layer may use: msgid marking, HTML escaping and local dates.

Services render outbox messages with them and the chat screens render replies with them, so they
live outside `bot.ui` (services must not depend on the UI). All bot messages are sent in HTML
parse mode, so anything a person typed goes through `esc`.
"""

from __future__ import annotations

import html
import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def N_(msgid: str) -> str:
    """Mark a msgid for extraction without translating it (translated where it is shown)."""
    return msgid


def esc(text: object) -> str:
    """Escape user-provided text for HTML parse mode (None shows as an empty string)."""
    if text is None:
        return ""
    return html.escape(str(text), quote=False)


#: Letters and symbols that draw nothing although Unicode does not class them as spaces.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _invisible(char: str) -> bool:
    return char.isspace() or char in _BLANK_GLYPHS or unicodedata.category(char) in ("Cf", "Cc")


def visible(text: str | None) -> str:
    """Typed text without the invisible characters at either end (zero-width spaces and joiners,
    BOM, NBSP, soft hyphen, direction marks, Hangul fillers…): "" when nothing visible is left.
    Every required text is checked with this, so a lone zero-width space counts as empty."""
    chars = text or ""
    start, end = 0, len(chars)
    while start < end and _invisible(chars[start]):
        start += 1
    while end > start and _invisible(chars[end - 1]):
        end -= 1
    return chars[start:end]


def fmt_dt(dt: datetime | None, tz: ZoneInfo | str = "Asia/Ho_Chi_Minh") -> str:
    """dd/mm/yyyy HH:MM in the local time zone; naive datetimes are taken as UTC."""
    if dt is None:
        return ""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(zone).strftime("%d/%m/%Y %H:%M")


def fmt_size(size: int | None, locale: str = "vi") -> str:
    """A file size as a person reads it: "45 B", "1,5 KB", "3,2 MB" (decimal comma in Vietnamese)."""
    n = size or 0
    if n < 1024:
        text = f"{n} B"
    elif n < 1024 * 1024:
        text = f"{n / 1024:.1f} KB"
    else:
        text = f"{n / 1024 / 1024:.1f} MB"
    return text.replace(".", ",") if locale == "vi" else text
