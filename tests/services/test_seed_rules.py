"""The seed documents' rules as a person sees them on the demo province (Vietnamese screens and
reports), each test named after the sentence it implements. The scoring core's side of the same
rules is tests/unit/scoring/test_seed_rules.py; every screen at once is tests/one_truth."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Assessment, Unit
from bot.i18n import get_i18n
from bot.reports.from_scoring import summary_rows
from bot.reports.xlsx import summary_workbook
from bot.scoring.bands import DEFAULT_BANDS
from bot.scoring.ranking import RankEntry, awards, rank_group
from bot.scoring.sheet import Basis
from bot.services import assessment as officer
from bot.services import leader as svc
from bot.services import leader_reports
from bot.services.leader import GroupAwards, GroupRef, RankingView, ResultStatus
from bot.ui import leader_view, officer_view
from tests.services.leader_demo import (  # noqa: F401
    LEADER,
    demo_db,
    demo_template,
    demo_url,
    person,
    unit_id,
)

D = Decimal


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    i18n = get_i18n()
    with i18n.context(), i18n.use_locale("vi"):
        yield


@pytest.fixture
def db(demo_db: AsyncSession) -> AsyncSession:  # noqa: F811
    return demo_db


async def _summary_row(db: AsyncSession, name: str) -> dict[str, object]:
    out = await leader_reports.summary_xlsx(db, LEADER)
    ws = load_workbook(io.BytesIO(out.data)).worksheets[0]
    header = [c.value for c in ws[4]]
    for row in ws.iter_rows(min_row=5, values_only=True):
        if row[1] == name:
            return dict(zip(header, row, strict=True))
    raise AssertionError(name)


async def test_seed003_khong_danh_gia_xep_hang_no_class_and_out_of_every_group_average(
    db: AsyncSession,
) -> None:
    """Seed 003: "UBND tỉnh không đánh giá, xếp hạng kết quả Chỉ số CCHC … những cơ quan, đơn vị có
    phát hiện thiếu trung thực". The demo's Ban Quản lý dự án is flagged: its score is shown apart
    with the reason, without a class, and the group's averages are those of the ranked units."""
    group = (await svc.list_groups(db))[0]
    view = await svc.group_ranking(db, LEADER, group.id)
    text = "\n".join(leader_view.rank_pages(view, "vi"))
    line = next(line for line in text.splitlines() if "Ban Quản lý dự án" in line)
    assert (
        line.startswith("• Ban Quản lý dự án đầu tư xây dựng tỉnh — ")
        and "không xếp hạng: Phát hiện thiếu" in line
    )
    assert not any(name in line for name in ("Xuất sắc", "Tốt", "Khá", "Trung bình", "Yếu"))
    row = await _summary_row(db, "Ban Quản lý dự án đầu tư xây dựng tỉnh")
    assert row["Xếp loại"] is None and row["Xếp hạng"] == "Không xếp hạng" and row["Chỉ số CCHC"] is not None

    snv = await unit_id(db, "SNV")
    flagged = await svc.unit_detail(db, LEADER, snv)
    bqlda = await db.scalar(
        select(Assessment).join(Unit, Unit.id == Assessment.unit_id).where(Unit.code == "BQLDA")
    )
    assert bqlda is not None and bqlda.not_ranked
    bqlda.not_ranked = False
    await db.commit()
    counted = await svc.unit_detail(db, LEADER, snv)
    assert [f.group_average for f in flagged.fields] != [f.group_average for f in counted.fields]
    assert flagged.ranked_count == counted.ranked_count - 1
    for engine in ("core", "sql"):  # the SQL path for large groups leaves it out the same way
        bqlda.not_ranked = True
        await db.commit()
        assert (await svc.unit_detail(db, LEADER, snv, engine=engine)).fields == flagged.fields


async def test_seed003_thoi_han_gui_bao_cao_tu_danh_gia_a_report_not_sent_has_no_index(
    db: AsyncSession,
) -> None:
    """Seed 003: "Thời hạn gửi Báo cáo tự đánh giá …": a unit that has not sent its report has no
    index and no class anywhere (never "0.00 Yếu"), only the reason; its points so far are its own."""
    syt = await unit_id(db, "SYT")
    group = (await svc.list_groups(db))[0]
    text = "\n".join(leader_view.rank_pages(await svc.group_ranking(db, LEADER, group.id), "vi"))
    assert "• Sở Y tế — chưa gửi báo cáo tự đánh giá" in text.splitlines()
    row = await _summary_row(db, "Sở Y tế")
    assert (row["Chỉ số CCHC"], row["Xếp loại"], row["Điểm thẩm định"], row["Điểm tự đánh giá"]) == (
        None,
    ) * 4
    assert row["Ghi chú"] == "Chưa gửi báo cáo tự đánh giá"
    not_started = await _summary_row(db, "Ban Quản lý các khu công nghiệp")
    assert (not_started["Chỉ số CCHC"], not_started["Xếp loại"]) == (None, None)
    assert not_started["Ghi chú"] == "Chưa bắt đầu tự đánh giá"
    detail = leader_view.unit_text(await svc.unit_detail(db, LEADER, syt), "vi")
    assert "Chưa có chỉ số: chưa gửi báo cáo tự đánh giá" in detail
    assert "Chỉ số: <b>" not in detail


async def test_seed003_ket_qua_dieu_tra_xa_hoi_hoc_pending_is_said_next_to_the_index(
    db: AsyncSession,
) -> None:
    """Seed 003: Sở Nội vụ "tổng hợp kết quả điều tra xã hội học". Until it has entered a unit's
    result, the survey is out of both sums and every screen says so next to the index: the officer's
    review and the leader's /unit agree on points, maximum and index (issue 9: 50,21/76 against
    50,21/96)."""
    syt = await unit_id(db, "SYT")
    head = person("unit_head", unit_id=syt)
    assessment = await db.scalar(select(Assessment).where(Assessment.unit_id == syt))
    assert assessment is not None
    sheet = await officer.load_sheet(db, head, assessment.id)
    review = officer_view.review_text(sheet, officer.review(sheet), "vi")
    result = sheet.result()
    assert result.survey_pending_max == 20 and result.applicable_max == result.appraised.applicable_max
    assert "chưa có kết quả điều tra XHH (20 điểm)" in review
    detail = await svc.unit_detail(db, LEADER, syt)
    assert detail.basis is Basis.APPRAISED and detail.sheet is not None
    # a draft: no appraisal values, so the appraised basis is the unit's own points
    assert (detail.sheet.points, detail.sheet.applicable_max, detail.sheet.index) == (
        result.points,
        result.applicable_max,
        result.index,
    )
    unit_text = leader_view.unit_text(detail, "vi")
    assert "chưa có kết quả điều tra XHH (20 điểm)" in unit_text
    # a submitted unit without its survey result: on /rank, in the XLSX, on the unit's sheet
    group = (await svc.list_groups(db))[0]
    view = await svc.group_ranking(db, LEADER, group.id)
    pending = next(r for r in view.ranked if r.survey_pending_max > 0)
    line = next(line for line in leader_view.rank_pages(view, "vi")[0].splitlines() if pending.name in line)
    assert line.endswith("chưa có kết quả điều tra XHH (20 điểm)")
    row = await _summary_row(db, pending.name)
    assert row["Ghi chú"] == "chưa có kết quả điều tra XHH (20 điểm)"
    out = await leader_reports.unit_xlsx(db, LEADER, pending.unit_id)
    cells = [c for row in load_workbook(io.BytesIO(out.data)).active.iter_rows(values_only=True) for c in row]
    assert "Điểm điều tra XHH chưa có kết quả (chưa tính vào chỉ số)" in cells


async def test_seed004_nhung_noi_dung_chua_dat_diem_with_the_group_average_never_survey(
    db: AsyncSession,
) -> None:
    """Seed 004: "rà soát … những nội dung chưa đạt điểm so với điểm chuẩn tối đa hoặc có kết quả
    thấp so với chỉ số trung bình chung": /unit lists what lost points first, each with what the
    unit achieved and the group's average; survey items are not in the list."""
    detail = await svc.unit_detail(db, LEADER, await unit_id(db, "SKHCN"))
    assert detail.sheet is not None and detail.gaps
    assert not any(detail.sheet.leaves[g.code].survey for g in detail.gaps)
    text = leader_view.unit_text(detail, "vi")
    first = text.partition("cần khắc phục trước</b>\n")[2].splitlines()[0]
    assert first.startswith(f"• {detail.gaps[0].code} ") and " · đạt " in first and " · TB khối " in first
    criteria = [c for f in detail.fields for c in f.children]
    assert criteria and all(c.level == "criterion" for c in criteria)
    assert any(c.group_average is not None for c in criteria)


def _view(entries: list[RankEntry]) -> RankingView:
    rows = rank_group(entries, DEFAULT_BANDS)
    group = GroupRef(1, "SO", "Sở, ban, ngành")
    return RankingView(2026, "Kỳ 2026", group, Basis.FINAL, ResultStatus.FINAL, "core", rows, DEFAULT_BANDS)


def test_seed001_don_vi_xuat_sac_tu_90_diem_shown_90_00_is_xuat_sac_everywhere() -> None:
    """Seed 001: "Đơn vị xuất sắc: Từ 90 đến 100 điểm". 89.996 is published "90,00": /rank, the
    XLSX and the chart label say 90,00 and Xuất sắc, never "90,00 · Tốt"."""
    view = _view([RankEntry(1, "Sở A", D("89.996")), RankEntry(2, "Sở B", D("89.994"))])
    text = leader_view.rank_pages(view, "vi")[0]
    assert "1. Sở A — <b>90,00</b> · Xuất sắc" in text and "2. Sở B — <b>89,99</b> · Tốt" in text
    data = summary_workbook("t", [("Khối", summary_rows(view.rows, {}, {}))], False, "")
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [(r[4], r[5]) for r in ws.iter_rows(min_row=5, max_row=6, values_only=True)] == [
        (90.0, "Xuất sắc"),
        (89.99, "Tốt"),
    ]


def test_seed001_khong_qua_04_don_vi_the_tie_goes_to_the_council() -> None:
    """Seed 001: "Tặng Bằng khen cho không quá 04 đơn vị": with 95, 93, 91, 90, 90 /awards proposes
    three and puts the two 90s before the council for the last place."""
    view = _view(
        [RankEntry(n, f"Sở {n}", D(v)) for n, v in enumerate(("95", "93", "91", "90", "90"), start=1)]
    )
    chosen = awards(view.rows, 4, D(90))
    group = GroupAwards(
        view.group, 4, D(90), view.status, view.basis, chosen.proposed, chosen.council, chosen.seats
    )
    text = leader_view.awards_text(2026, [group], "vi")
    assert "(không quá 4 đơn vị, chỉ số từ 90 trở lên)" in text
    lines = text.splitlines()
    tie = lines.index("Bằng chỉ số nhau ở 1 suất cuối, Hội đồng xem xét quyết định:")
    assert [line.split(" — ")[0] for line in lines[tie - 3 : tie]] == ["1. Sở 1", "2. Sở 2", "3. Sở 3"]
    assert lines[tie + 1 :] == ["4. Sở 4 — <b>90,00</b>", "4. Sở 5 — <b>90,00</b>"]
