"""The /rank pages: every unit exactly once, each page under Telegram's 4096 characters even with
very long names, Vietnamese numbers and labels."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from aiogram.utils.i18n import I18n

from bot.i18n import get_i18n
from bot.scoring.bands import DEFAULT_BANDS
from bot.scoring.ranking import RankEntry, rank_group
from bot.scoring.sheet import Basis
from bot.services.leader import GroupRef, RankingView, ResultStatus
from bot.ui.leader_view import ROWS_PER_PAGE, rank_pages
from bot.ui.text import TELEGRAM_TEXT_LIMIT


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    i18n = get_i18n()
    token = I18n.set_current(i18n)
    with i18n.use_locale("vi"):
        yield
    I18n.reset_current(token)


def _view(count: int, name_length: int, status: ResultStatus, basis: Basis) -> RankingView:
    entries = [
        RankEntry(
            n,
            f"Xã {n:04d} " + "Đặc biệt dài " * (name_length // 13),
            None if n % 9 == 0 and n % 2 else Decimal(95) - Decimal(n) / 7,  # drafts have no index
            ranked=n % 9 != 0,
            reason="" if n % 9 else ("draft" if n % 2 else "not_ranked: <thiếu trung thực>"),
        )
        for n in range(1, count + 1)
    ]
    rows = rank_group(entries, DEFAULT_BANDS)
    changes: dict[int, Decimal | None] = {
        r.unit_id: Decimal("1.005") if r.unit_id % 2 else Decimal(-3) for r in rows if r.ranked
    }
    return RankingView(
        2025, "Kỳ 2025", GroupRef(1, "XA", "Xã, phường"), basis, status, "core", rows, DEFAULT_BANDS, changes
    )


@pytest.mark.parametrize("name_length", [10, 400])
def test_pages_fit_and_hold_every_unit_once(name_length: int) -> None:
    view = _view(250, name_length, ResultStatus.APPRAISED, Basis.APPRAISED)
    pages = rank_pages(view, "vi")
    assert len(pages) >= 250 // ROWS_PER_PAGE
    seen: list[int] = []
    for number, page in enumerate(pages, start=1):
        assert len(page) < TELEGRAM_TEXT_LIMIT
        assert f"Trang {number}/{len(pages)}" in page
        assert "tạm thời — theo điểm thẩm định đến nay" in page
        seen += [
            int(line.split("Xã ", 1)[1][:4]) for line in page.splitlines() if "Xã " in line and "—" in line
        ]
    assert sorted(seen) == list(range(1, 251))
    first = pages[0]
    assert "1. Xã 0001" in first and "<b>94,86</b> · Xuất sắc · ▲ 1,01" in first  # 95 − 1/7, half-up
    last = pages[-1]
    assert "<b>Không xếp hạng (27)</b>" in last  # the heading is repeated on every page of that list
    assert "không xếp hạng: &lt;thiếu trung thực&gt;" in "".join(pages)  # escaped


def test_labels_before_and_after_publication() -> None:
    assert (
        "tạm thời — theo điểm tự đánh giá" in rank_pages(_view(3, 5, ResultStatus.SELF, Basis.SELF), "vi")[0]
    )
    final = rank_pages(_view(3, 5, ResultStatus.FINAL, Basis.FINAL), "vi")[0]
    assert "chính thức" in final and "tạm thời" not in final
    assert "Trang" not in final  # one page: no page counter


def test_unsubmitted_sheets_show_no_partial_index() -> None:
    text = "".join(rank_pages(_view(20, 5, ResultStatus.APPRAISED, Basis.APPRAISED), "vi"))
    draft = next(line for line in text.splitlines() if "Xã 0009" in line)
    flagged = next(line for line in text.splitlines() if "Xã 0018" in line)
    assert "chưa gửi" in draft and "93,71" not in draft
    assert "92,43" in flagged and "không xếp hạng" in flagged


def test_the_chart_draws_results_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.services import leader_reports

    drawn: list[str] = []
    monkeypatch.setattr(
        leader_reports, "ranking_chart_pages", lambda title, rows, *a, **k: drawn.extend(r.name for r in rows)
    )
    leader_reports.ranking_pngs_of(_view(20, 5, ResultStatus.APPRAISED, Basis.APPRAISED), "vi")
    assert any(name.startswith("Xã 0018") for name in drawn)  # flagged "not ranked": shown with its score
    assert not any(name.startswith("Xã 0009") for name in drawn)  # a draft: no result yet
    assert len(drawn) == 19
