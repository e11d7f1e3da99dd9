"""XLSX reports read back with openpyxl and compared cell by cell with their inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports.from_scoring import summary_rows, unit_item_rows, unit_totals
from bot.reports.rows import AuditRow, SummaryRow, UnitItemRow, UnitTotals
from bot.reports.xlsx import (
    appraisal_log_workbook,
    log_headers,
    summary_headers,
    summary_workbook,
    unit_headers,
    unit_workbook,
)
from bot.scoring.bands import DEFAULT_BANDS, grade
from bot.scoring.fmt import fmt_index, fmt_points
from bot.scoring.ranking import RankEntry, rank_group
from bot.scoring.sheet import SheetResult

D = Decimal

SUMMARY_VI = [
    "STT",
    "Đơn vị",
    "Điểm tự đánh giá",
    "Điểm thẩm định",
    "Chỉ số CCHC",
    "Xếp loại",
    "Xếp hạng",
    "Thay đổi so với năm trước",
    "Ghi chú",
]


def _open(data: bytes) -> list[Worksheet]:
    assert data[:2] == b"PK"
    return list(load_workbook(BytesIO(data)).worksheets)


def _row(ws: Worksheet, r: int) -> list[object]:
    return [c.value for c in ws[r]]


def _p(value: Decimal) -> float:
    """A points cell holds what chat shows (`fmt_points`): exact up to three decimals."""
    return float(fmt_points(value, "en"))


def _shown_index(value: float) -> str:
    """What Excel shows for an index cell with format 0.00, in Vietnamese."""
    return fmt_index(D(repr(value)), "vi")


def _assert_printable(ws: Worksheet, header_row: int, landscape: bool = True) -> None:
    assert ws.freeze_panes == f"A{header_row + 1}"
    assert ws.print_title_rows == f"${header_row}:${header_row}"
    assert ws.page_setup.orientation == ("landscape" if landscape else "portrait")
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert int(ws.page_setup.fitToWidth) == 1
    assert int(ws.page_setup.fitToHeight) == 0
    assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith(f"A{header_row}:")
    for letter in "AB":
        assert ws.column_dimensions[letter].width >= 6
    header = ws[header_row]
    assert all(cell.font.b for cell in header if cell.value)


# --- summary -----------------------------------------------------------------------------------------


@pytest.fixture
def departments() -> list[SummaryRow]:
    entries = [
        RankEntry(1, "Sở Nội vụ", D("93.456")),
        RankEntry(2, "Sở Tư pháp", D("87.125")),
        RankEntry(3, "Văn phòng UBND tỉnh", D("89.996")),
        RankEntry(4, "Sở Tài chính", D("87.125")),
        RankEntry(
            5, "Sở Y tế", D("71.4"), ranked=False, reason="not_ranked: Tài liệu kiểm chứng không trung thực"
        ),
        RankEntry(6, "Ủy ban nhân dân xã Đắk Lắk", D(2) / D(3) * 100, survey_pending_max=D(20)),
        RankEntry(7, "Sở Xây dựng", None, ranked=False, reason="Chưa gửi báo cáo tự đánh giá"),
    ]
    ranked = rank_group(entries)
    self_points = {e.unit_id: e.index + D("1.5") for e in entries if e.index is not None}
    appraised = {e.unit_id: e.index for e in entries if e.index is not None}
    changes: dict[int, Decimal | None] = {1: D("2.345"), 2: D("-1.2"), 3: None}
    return summary_rows(ranked, self_points, appraised, changes)


def test_summary_sheet_matches_rows_cell_by_cell(departments: list[SummaryRow]) -> None:
    data = summary_workbook(
        "Chỉ số CCHC năm 2025",
        [("Khối sở, ban, ngành", departments), ("Khối huyện", departments[:2])],
        provisional=True,
        basis_note="theo điểm thẩm định đến 20/11/2026",
    )
    ws, second = _open(data)
    assert ws.title == "Khối sở, ban, ngành"
    assert second.title == "Khối huyện"
    assert ws["A1"].value == "Chỉ số CCHC năm 2025"
    assert ws["A2"].value == "Khối sở, ban, ngành"
    assert ws["A3"].value == "Kết quả tạm thời (theo điểm thẩm định đến 20/11/2026)"
    assert _row(ws, 4) == SUMMARY_VI
    assert summary_headers(True) == SUMMARY_VI

    ranked = [r for r in departments if r.ranked]
    apart = [r for r in departments if not r.ranked]
    assert len(ranked) == 5 and len(apart) == 2
    for offset, row in enumerate(ranked):
        r = 5 + offset
        cells = ws[r]
        assert cells[0].value == row.stt
        assert cells[1].value == row.unit_name
        assert row.self_points is not None and cells[2].value == _p(row.self_points)
        assert row.appraised_points is not None and cells[3].value == _p(row.appraised_points)
        assert row.index is not None and row.band is not None
        assert _shown_index(cells[4].value) == fmt_index(row.index)
        assert cells[4].value == float(row.index.quantize(D("0.01"), rounding=ROUND_HALF_UP))
        assert cells[5].value == row.band.name_vi
        assert cells[6].value == row.rank
        expected_change = None if row.change is None else float(row.change.quantize(D("0.01"), ROUND_HALF_UP))
        assert cells[7].value == expected_change
        pending = "chưa có kết quả điều tra XHH (20 điểm)" if row.survey_pending_max else None
        assert cells[8].value == pending
        assert [c.number_format for c in cells[2:5]] == ["0.00#", "0.00#", "0.00"]
        assert cells[7].number_format == "+0.00;-0.00;0.00"
        assert all(c.border.left.style == "thin" for c in cells)
    # ties share a rank; 89.996 is published 90,00 and classed on that value: Xuất sắc
    assert [ws.cell(row=r, column=7).value for r in range(5, 10)] == [1, 2, 3, 3, 5]
    vp = next(r for r in range(5, 10) if ws.cell(row=r, column=2).value == "Văn phòng UBND tỉnh")
    assert ws.cell(row=vp, column=5).value == 90.0
    assert ws.cell(row=vp, column=6).value == "Xuất sắc"

    # apart, after an empty row and a heading: the unit not ranked with its score and reason but no
    # class; the unit without a result with no points, no index, no class (never "0.00 Yếu")
    assert _row(ws, 10) == [None] * 9
    assert ws["A11"].value == "Đơn vị không xếp hạng hoặc chưa có kết quả"
    assert ws["B12"].value == "Sở Y tế"
    assert ws["E12"].value == 71.4
    assert ws["F12"].value is None
    assert ws["G12"].value == "Không xếp hạng"
    assert ws["I12"].value == "not_ranked: Tài liệu kiểm chứng không trung thực"
    assert _row(ws, 13) == [
        7,
        "Sở Xây dựng",
        None,
        None,
        None,
        None,
        None,
        None,
        "Chưa gửi báo cáo tự đánh giá",
    ]
    assert ws.max_row == 13

    _assert_printable(ws, 4)
    assert ws.auto_filter.ref == "A4:I9"
    assert ws.print_area is not None and "$A$1:$I$13" in ws.print_area
    # the second group has its own sheet with the same layout
    assert _row(second, 4) == SUMMARY_VI and second.max_row == 6
    assert second["A3"].font.color.rgb.endswith("C00000")


def test_summary_final_english_and_without_history() -> None:
    band = grade(D("92"), DEFAULT_BANDS).band
    row = SummaryRow(1, "Department of Home Affairs", D("95.25"), D(92), D(92), band, 1)
    (ws,) = _open(
        summary_workbook("PAR index 2025", [("Departments", [row])], False, "Decision 123", locale="en")
    )
    assert ws["A3"].value == "Final results – Decision 123"
    assert _row(ws, 4) == [
        "No.",
        "Unit",
        "Self-assessed points",
        "Appraised points",
        "PAR index",
        "Class",
        "Rank",
        "Note",
    ]
    assert _row(ws, 5) == [1, "Department of Home Affairs", 95.25, 92.0, 92.0, "Excellent", 1, None]
    assert ws.auto_filter.ref == "A4:H5"
    (vi,) = _open(summary_workbook("Chỉ số", [("Khối sở", [row])], False, ""))
    assert vi["A3"].value == "Kết quả chính thức"


def test_summary_sheet_names_are_legal_and_unique() -> None:
    data = summary_workbook(
        "t",
        [("Khối xã/phường: [A]*?", []), ("Khối xã/phường: [A]*?", []), ("x" * 40, [])],
        provisional=True,
        basis_note="",
    )
    titles = [ws.title for ws in _open(data)]
    assert len(set(titles)) == 3
    assert all(len(t) <= 31 and not set(t) & set("[]:*?/\\") for t in titles)
    empty = _open(data)[0]
    assert _row(empty, 4)[0] == "STT" and empty.max_row == 4
    assert empty["A3"].value == "Kết quả tạm thời"


# --- one unit ----------------------------------------------------------------------------------------


def test_unit_sheet_matches_the_core_results(
    final_sheet: SheetResult, self_sheet: SheetResult, appraisal1: dict[str, Decimal | None]
) -> None:
    comments = {"1.1.2": "Chỉ hoàn thành 75% kế hoạch", "1.2": "Thiếu biên bản kiểm tra"}
    final_round = {"1.1.2": D("1.25")}
    final_comments = {"1.1.2": "Đã bổ sung báo cáo quý IV"}
    evidence = {"1.1.1": 2, "1.1.2": 1, "1.2": 0, "2.1.1": 3}
    rows = unit_item_rows(
        final_sheet, self_sheet, appraisal1, final_round, comments, final_comments, evidence
    )
    graded = grade(final_sheet.index)
    band = graded.band
    totals = unit_totals(
        final_sheet, graded, self_sheet, sum((v for v in appraisal1.values() if v), D(0)), D("1.25")
    )
    data = unit_workbook("Sở Nội vụ", "Năm 2025", rows, totals, provisional=True, basis_note="sau thẩm định")
    (ws,) = _open(data)
    assert ws["A1"].value == "Kết quả chấm điểm Chỉ số CCHC: Sở Nội vụ"
    assert ws["A2"].value == "Năm 2025"
    assert ws["A3"].value == "Kết quả tạm thời (sau thẩm định)"
    assert (
        _row(ws, 4)
        == unit_headers()
        == [
            "Mã",
            "Nội dung",
            "Điểm tối đa",
            "Tự đánh giá",
            "Thẩm định lần 1",
            "Nhận xét lần 1",
            "Thẩm định lần 2",
            "Nhận xét lần 2",
            "Điểm cuối cùng",
            "Số tài liệu kiểm chứng",
            "Không áp dụng",
        ]
    )
    codes = [ws.cell(row=r, column=1).value for r in range(5, 5 + len(rows))]
    assert codes == ["1", "1.1", "1.1.1", "1.1.2", "1.2", "2", "2.1", "2.1.1", "2.1.2"]

    by_code = {ws.cell(row=r, column=1).value: r for r in range(5, 5 + len(rows))}
    # fields and criteria: bold, with the core's subtotals
    for field in final_sheet.fields:
        r = by_code[field.code]
        assert ws.cell(row=r, column=1).font.b is True
        assert ws.cell(row=r, column=2).value == field.name
        assert ws.cell(row=r, column=3).value == float(field.max_points)
        assert ws.cell(row=r, column=9).value == _p(field.points)
        own = self_sheet.field_by_code(field.code)
        assert own is not None and ws.cell(row=r, column=4).value == _p(own.points)
        for criterion in field.criteria:
            rc = by_code[criterion.code]
            assert ws.cell(row=rc, column=2).font.b is True
            assert ws.cell(row=rc, column=9).value == _p(criterion.points)
    # leaves: regular weight, indented, every column
    for code, leaf in final_sheet.leaves.items():
        r = by_code[code]
        if code != leaf.criterion_code:
            assert ws.cell(row=r, column=2).font.b is False
            assert ws.cell(row=r, column=2).alignment.indent == 2
        assert ws.cell(row=r, column=3).value == float(leaf.max_points)
        assert ws.cell(row=r, column=4).value == _p(self_sheet.leaves[code].points)
        assert ws.cell(row=r, column=9).value == _p(leaf.points)
        assert ws.cell(row=r, column=6).value == (comments.get(code) or None)
        assert ws.cell(row=r, column=7).value == (float(final_round[code]) if code in final_round else None)
        assert ws.cell(row=r, column=8).value == (final_comments.get(code) or None)
        assert ws.cell(row=r, column=10).value == evidence.get(code)
        assert ws.cell(row=r, column=11).value is None
    # 0.125 steps are kept (format 0.00#); a division (2/3 points) is rounded to two decimals
    assert ws.cell(row=by_code["1.1.2"], column=4).value == 1.875
    assert ws.cell(row=by_code["1.1.2"], column=5).value == 1.125
    assert ws.cell(row=by_code["2.1.1"], column=5).value == 0.67
    assert ws.cell(row=by_code["1.1.2"], column=4).number_format == "0.00#"
    # appraisal-1 subtotal of field 1: 2 + 1.125 + 1.75
    assert ws.cell(row=by_code["1"], column=5).value == 4.875

    # the final round's subtotals: only 1.1.2 went to the final round
    assert ws.cell(row=by_code["1"], column=7).value == 1.25

    r = 5 + len(rows)
    assert _row(ws, r)[1:9] == ["Tổng cộng", 10.0, 9.875, 5.54, None, 1.25, None, _p(final_sheet.points)]
    assert ws.cell(row=r + 1, column=2).value.startswith("Điểm tối đa áp dụng")
    assert ws.cell(row=r + 1, column=3).value == float(final_sheet.applicable_max)
    assert ws.cell(row=r + 2, column=2).value == "Chỉ số CCHC"
    assert _shown_index(ws.cell(row=r + 2, column=9).value) == fmt_index(final_sheet.index)
    assert ws.cell(row=r + 2, column=9).number_format == "0.00"
    assert ws.cell(row=r + 3, column=2).value == "Xếp loại"
    assert ws.cell(row=r + 3, column=9).value == band.name_vi
    assert ws.max_row == r + 3
    _assert_printable(ws, 4)
    assert ws.auto_filter.ref == f"A4:K{4 + len(rows)}"


def test_unit_sheet_marks_not_applicable_and_shows_bonus() -> None:
    rows = [
        UnitItemRow("1", "Lĩnh vực", "field", D(2), D(0), None, D(0)),
        UnitItemRow("1.1", "Không áp dụng với đơn vị", "leaf", D(2), na=True, comment1="Không có"),
    ]
    totals = UnitTotals(D(2), D(0), D(1), D(100), bonus=D(1), penalty=D("0.5"))
    (ws,) = _open(unit_workbook("Sở A", "2025", rows, totals, locale="en"))
    assert ws["K6"].value == "x"
    labels = [ws.cell(row=r, column=2).value for r in range(7, ws.max_row + 1)]
    assert labels == ["Bonus points", "Penalty points", "Total", "Applicable maximum", "PAR index", "Class"]
    assert ws["I7"].value == 1.0 and ws["I8"].value == 0.5 and ws["I9"].value == 1.0
    assert ws["I11"].value == 100.0
    assert ws["A3"].value == "Final results"


def test_unit_sheet_without_a_result_and_with_the_survey_pending() -> None:
    rows = [
        UnitItemRow("8", "Mức độ hài lòng", "field", D(20), final=D(0)),
        UnitItemRow("8.1", "Điều tra XHH", "leaf", D(20), pending=True),
    ]
    totals = UnitTotals(
        D(20), D(0), D(0), None, survey_pending_max=D(20), reason="Chưa gửi báo cáo tự đánh giá"
    )
    (ws,) = _open(unit_workbook("Sở Y tế", "2026", rows, totals))
    assert ws["H6"].value == "chưa có kết quả điều tra XHH"
    lines = {ws.cell(row=r, column=2).value: r for r in range(7, ws.max_row + 1)}
    pending = lines["Điểm điều tra XHH chưa có kết quả (chưa tính vào chỉ số)"]
    assert ws.cell(row=pending, column=3).value == 20.0
    index = lines["Chỉ số CCHC"]
    assert ws.cell(row=index, column=9).value == "Chưa có chỉ số: Chưa gửi báo cáo tự đánh giá"
    assert ws.cell(row=lines["Xếp loại"], column=9).value is None


# --- appraisal log -----------------------------------------------------------------------------------


def test_appraisal_log_in_vietnam_time() -> None:
    rows = [
        AuditRow(
            datetime(2026, 11, 20, 17, 30, tzinfo=UTC),
            "Nguyễn Văn A (Sở Tư pháp)",
            "Sở Nội vụ",
            "2.1.1",
            "Điều chỉnh",
            D("1.875"),
            D("1.5"),
            "Thiếu văn bản kiểm chứng",
        ),
        AuditRow(
            datetime(2026, 11, 21, 9, 5, tzinfo=timezone(timedelta(hours=7))),
            "Trần Thị B",
            "Sở Y tế",
            "1.1.2",
            "Không áp dụng",
            "—",
            "N/A",
        ),
    ]
    (ws,) = _open(appraisal_log_workbook(rows))
    assert ws["A1"].value == "Nhật ký thẩm định"
    assert (
        _row(ws, 3)
        == log_headers()
        == [
            "Thời gian",
            "Người thực hiện",
            "Đơn vị",
            "Mã tiêu chí",
            "Thao tác",
            "Trước",
            "Sau",
            "Lý do",
        ]
    )
    assert _row(ws, 4) == [
        datetime(2026, 11, 21, 0, 30),
        "Nguyễn Văn A (Sở Tư pháp)",
        "Sở Nội vụ",
        "2.1.1",
        "Điều chỉnh",
        1.875,
        1.5,
        "Thiếu văn bản kiểm chứng",
    ]
    assert ws["A4"].number_format == "dd/mm/yyyy hh:mm"
    assert ws["F4"].number_format == "0.00#"
    assert _row(ws, 5) == [
        datetime(2026, 11, 21, 9, 5),
        "Trần Thị B",
        "Sở Y tế",
        "1.1.2",
        "Không áp dụng",
        "—",
        "N/A",
        None,
    ]
    _assert_printable(ws, 3)
    assert ws.auto_filter.ref == "A3:H5"


def test_appraisal_log_refuses_naive_times() -> None:
    row = AuditRow(datetime(2026, 11, 20, 17, 30), "a", "b", "1", "x")
    with pytest.raises(ValueError, match="timezone"):
        appraisal_log_workbook([row])
