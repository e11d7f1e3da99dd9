"""The shared list paging (bot/ui/paging.py) and the worst case of the paged screens: 300-character
names, the longest unit codes, a page full of them — still one message, buttons within 64 bytes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiogram.types import InlineKeyboardMarkup

from bot.db.models import Agency, Period
from bot.i18n import get_i18n
from bot.services.appraisal import Count, Pending, QueueItem
from bot.services.assignment_board import FieldSlot
from bot.services.stages import Round
from bot.ui import appraiser_kb, appraiser_view, secretariat_kb, secretariat_view
from bot.ui.leader_kb import LRank
from bot.ui.paging import PAGE_SIZE, clip, nav_row, page_of, paginate
from bot.ui.text import TELEGRAM_TEXT_LIMIT

LONG = "Ban Quản lý dự án Đầu tư & Xây dựng <Khu> " + "công trình dân dụng và công nghiệp " * 7  # 300
NOW = datetime(2025, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    i18n = get_i18n()
    with i18n.context(), i18n.use_locale("vi"):
        yield


def _data_sizes(markup: InlineKeyboardMarkup) -> list[int]:
    return [len(str(b.callback_data).encode()) for row in markup.inline_keyboard for b in row]


def test_paginate_clamps_and_counts() -> None:
    items = list(range(65))
    first, last = paginate(items, 0), paginate(items, 99)
    assert (first.count, first.rows[0], len(first.rows)) == (4, 0, PAGE_SIZE)
    assert (last.number, list(last.rows), last.start) == (3, list(range(60, 65)), 60)
    assert paginate([], 5).count == 1 and paginate([], 5).rows == []
    assert page_of(items, lambda i: i == 41) == 2 and page_of(items, lambda i: i == 999, 1) == 1


def test_nav_row() -> None:
    def to(p: int) -> LRank:
        return LRank(g=1, y=2025, p=p)

    assert nav_row(paginate(range(20), 0), to) == []
    row = nav_row(paginate(range(65), 1), to)
    assert [b.text for b in row] == ["◀", "2/4", "▶"]
    assert [b.callback_data for b in row] == ["lr:1:2025:0", "lr:1:2025:1", "lr:1:2025:2"]
    assert [b.text for b in nav_row(paginate(range(65), 3), to)] == ["◀", "4/4"]


def test_clip() -> None:
    assert clip("Sở Nội vụ") == "Sở Nội vụ"
    assert len(clip(LONG)) == 64 and clip(LONG).endswith("…")


def test_pending_page_with_long_names_is_one_message() -> None:
    period = Period(year=2025, status="appraisal", appraisal_deadline=NOW + timedelta(days=9))
    by_unit = [Count(str(10_000_000 + i), f"{LONG} {i}", 56, 3, NOW) for i in range(150)]
    by_field = [Count(str(i), f"{i}. {LONG}", 150, 0, NOW) for i in range(1, 11)]
    items = [cast(QueueItem, SimpleNamespace())] * (150 * 56)
    found = Pending(period, Round.FIRST, items, by_unit, by_field)
    for number in range(paginate(by_unit, 0).count):
        page = paginate(by_unit, number)
        notice = "✅ 7.1.10 đã được công nhận.\n\nKhông còn tiêu chí nào của đơn vị này chờ bạn.\n\n"
        assert len(notice + appraiser_view.home_text(found, page)) < TELEGRAM_TEXT_LIMIT
        assert max(_data_sizes(appraiser_kb.home_kb(page))) <= 64


def test_secretariat_pages_with_long_names_are_one_message() -> None:
    units = [
        SimpleNamespace(unit=SimpleNamespace(id=10_000_000 + i, name=LONG), items=[]) for i in range(150)
    ]
    page: Any = paginate(units, 7)
    assert len(secretariat_view.survey_units_text(page, 2025)) < TELEGRAM_TEXT_LIMIT
    assert max(_data_sizes(secretariat_kb.survey_units_kb(page))) <= 64
    codes = [("X" * 50, LONG, LONG) for _ in range(150)]
    flagged = paginate(codes, 2, secretariat_view.NOT_RANKED_PAGE)
    assert len(secretariat_view.not_ranked_text(flagged)) < TELEGRAM_TEXT_LIMIT
    picks = paginate([(c, n) for c, n, _r in codes], 2, secretariat_view.NOT_RANKED_PAGE)
    assert max(_data_sizes(secretariat_kb.not_ranked_kb(picks))) <= 64
    agencies = paginate([Agency(id=10_000_000 + i, code=f"A{i}", name=LONG) for i in range(40)], 1)
    assert len(secretariat_view.agencies_text(agencies)) < TELEGRAM_TEXT_LIMIT
    assert max(_data_sizes(secretariat_kb.agencies_kb(agencies))) <= 64
    slots = paginate([FieldSlot(f"field_{i:02d}_" + "x" * 20, None, None) for i in range(45)], 2)
    assert len(secretariat_view.assign_text(LONG, 2025, slots)) < TELEGRAM_TEXT_LIMIT
    assert max(_data_sizes(secretariat_kb.assign_kb(10_000_000, slots, 1))) <= 64
