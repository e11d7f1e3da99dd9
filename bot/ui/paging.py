"""Paging of long lists on a chat screen: one page of rows, a ◀ n/N ▶ row edited in place.

Every keyboard that can outgrow one screen (units of a province, agencies, a queue) pages through
`paginate` and `nav_row`; the page number travels in the screen's own callback data (ids only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

T = TypeVar("T")

#: Rows per page: ~20 buttons fit a phone screen, and 20 list lines stay far under 4096 characters.
PAGE_SIZE = 20
#: Longest name shown in a list line or a button (names may have up to 300 characters): a page of
#: PAGE_SIZE lines stays under 4096 characters however long the names are.
NAME_LIMIT = 64


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: Sequence[T]
    number: int  # 0-based, clamped to the pages that exist
    count: int  # number of pages, at least 1
    start: int  # index of rows[0] in the whole list
    total: int  # length of the whole list


def paginate(items: Sequence[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    """Page `number` of `items` (a number out of range, from a stale button, shows the nearest page)."""
    count = max(1, -(-len(items) // size))
    number = max(0, min(number, count - 1))
    start = number * size
    return Page(items[start : start + size], number, count, start, len(items))


def page_of(items: Sequence[T], found: Callable[[T], bool], default: int = 0, size: int = PAGE_SIZE) -> int:
    """The page holding the first item for which `found` is true ("back to the list" lands there)."""
    for index, item in enumerate(items):
        if found(item):
            return index // size
    return default


def nav_row(page: Page[T], to: Callable[[int], CallbackData]) -> list[InlineKeyboardButton]:
    """◀ n/N ▶ (an empty row when everything fits one page); `to(number)` is a page's button data."""
    if page.count <= 1:
        return []
    row: list[InlineKeyboardButton] = []
    if page.number > 0:
        row.append(InlineKeyboardButton(text="◀", callback_data=to(page.number - 1).pack()))
    row.append(
        InlineKeyboardButton(text=f"{page.number + 1}/{page.count}", callback_data=to(page.number).pack())
    )
    if page.number < page.count - 1:
        row.append(InlineKeyboardButton(text="▶", callback_data=to(page.number + 1).pack()))
    return row


def page_note(page: Page[T]) -> str:
    """ "Page n/N (rows a–b of t)" under a list's heading; empty when everything fits one page."""
    if page.count <= 1:
        return ""
    return _("Page {page}/{pages} ({first}–{last} of {total})").format(
        page=page.number + 1,
        pages=page.count,
        first=page.start + 1,
        last=page.start + len(page.rows),
        total=page.total,
    )


def clip(text: str, limit: int = NAME_LIMIT) -> str:
    """`text` cut to `limit` characters with "…" (before escaping: never cuts an HTML entity)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
