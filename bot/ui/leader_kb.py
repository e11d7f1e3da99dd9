"""Callback data and keyboards of the leader's screens (/rank, /unit, /awards, /progress).

Callback data carries ids only (group id, unit id, year, page): 64 bytes is Telegram's limit and
names are 2-3 bytes a letter in Vietnamese. Nothing in it is trusted: the services check rights
again on every press.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.services.leader import GroupRef
from bot.services.unit_search import UnitMatch
from bot.ui.paging import Page, nav_row


class LRank(CallbackData, prefix="lr"):
    """Page `p` of group `g`'s ranking for year `y`."""

    g: int
    y: int
    p: int = 0


class LRankFile(CallbackData, prefix="lf"):
    """A file of group `g`'s ranking: k = "c" (chart photos) | "x" (summary XLSX)."""

    g: int
    y: int
    k: str


class LUnit(CallbackData, prefix="lu"):
    """Unit `u`'s results for year `y`."""

    u: int
    y: int


class LUnitFile(CallbackData, prefix="lv"):
    """A file of unit `u`: k = "c" (profile chart) | "x" (per-unit XLSX)."""

    u: int
    y: int
    k: str


class LProgress(CallbackData, prefix="lp"):
    """The progress chart of year `y`."""

    y: int


def groups_kb(groups: list[GroupRef], year: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=g.name, callback_data=LRank(g=g.id, y=year).pack())] for g in groups
        ]
    )


def rank_kb(group_id: int, year: int, page: int, pages: int) -> InlineKeyboardMarkup:
    # the ranking's text is cut into pages by leader_view.rank_pages; only the count matters here
    numbered = Page[object](rows=(), number=page, count=pages, start=0, total=0)
    rows: list[list[InlineKeyboardButton]] = [nav_row(numbered, lambda p: LRank(g=group_id, y=year, p=p))]
    rows.append(
        [
            InlineKeyboardButton(
                text=_("📊 Chart"), callback_data=LRankFile(g=group_id, y=year, k="c").pack()
            ),
            InlineKeyboardButton(
                text=_("📄 XLSX"), callback_data=LRankFile(g=group_id, y=year, k="x").pack()
            ),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=[r for r in rows if r])


def matches_kb(matches: list[UnitMatch], year: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=m.name, callback_data=LUnit(u=m.unit_id, y=year).pack())]
            for m in matches
        ]
    )


def unit_kb(unit_id: int, year: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("📊 Profile chart"), callback_data=LUnitFile(u=unit_id, y=year, k="c").pack()
                ),
                InlineKeyboardButton(
                    text=_("📄 XLSX"), callback_data=LUnitFile(u=unit_id, y=year, k="x").pack()
                ),
            ]
        ]
    )


def progress_kb(year: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("📊 Chart"), callback_data=LProgress(y=year).pack())]]
    )
