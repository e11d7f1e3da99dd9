"""Report and chart wording in Vietnamese (default) and English.

Kept here rather than in the gettext catalogues because these are document headers with a fixed
official wording (the columns provinces publish), not chat texts; one table keeps both languages
side by side so a reviewer sees a missing translation at once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from bot.scoring.fmt import fmt_points

if TYPE_CHECKING:
    from bot.scoring.bands import ClassBand

_LABELS: dict[str, tuple[str, str]] = {
    # summary workbook
    "stt": ("STT", "No."),
    "unit": ("Đơn vị", "Unit"),
    "self_points": ("Điểm tự đánh giá", "Self-assessed points"),
    "appraised_points": ("Điểm thẩm định", "Appraised points"),
    "index": ("Chỉ số CCHC", "PAR index"),
    "band": ("Xếp loại", "Class"),
    "rank": ("Xếp hạng", "Rank"),
    "change": ("Thay đổi so với năm trước", "Change since last year"),
    "note": ("Ghi chú", "Note"),
    "not_ranked_heading": (
        "Đơn vị không xếp hạng hoặc chưa có kết quả",
        "Units not ranked or without a result",
    ),
    "not_ranked": ("Không xếp hạng", "Not ranked"),
    "provisional": ("Kết quả tạm thời", "Provisional results"),
    "final": ("Kết quả chính thức", "Final results"),
    # unit workbook
    "code": ("Mã", "Code"),
    "content": ("Nội dung", "Item"),
    "max_points": ("Điểm tối đa", "Max points"),
    "self": ("Tự đánh giá", "Self-assessed"),
    "appraisal1": ("Thẩm định lần 1", "Appraisal 1"),
    "final_points": ("Điểm cuối cùng", "Final points"),
    "comment1": ("Nhận xét lần 1", "Appraisal 1 comment"),
    "final_round": ("Thẩm định lần 2", "Final appraisal"),
    "comment_final": ("Nhận xét lần 2", "Final appraisal comment"),
    "evidence_count": ("Số tài liệu kiểm chứng", "Evidence files"),
    "na": ("Không áp dụng", "Not applicable"),
    "unit_title": ("Kết quả chấm điểm Chỉ số CCHC", "PAR index scoring"),
    "total": ("Tổng cộng", "Total"),
    "applicable_max": ("Điểm tối đa áp dụng (trừ nội dung không áp dụng)", "Applicable maximum"),
    "bonus": ("Điểm thưởng", "Bonus points"),
    "penalty": ("Điểm trừ", "Penalty points"),
    "no_index": ("Chưa có chỉ số", "No index yet"),
    "survey_pending": (
        "chưa có kết quả điều tra XHH ({points} điểm)",
        "survey result pending ({points} points)",
    ),
    "survey_pending_item": ("chưa có kết quả điều tra XHH", "survey result pending"),
    "survey_pending_total": (
        "Điểm điều tra XHH chưa có kết quả (chưa tính vào chỉ số)",
        "Survey points pending (not in the index yet)",
    ),
    "unit_sheet": ("Chi tiết", "Details"),
    # appraisal log
    "log_title": ("Nhật ký thẩm định", "Appraisal log"),
    "log_sheet": ("Nhật ký", "Log"),
    "at": ("Thời gian", "Time"),
    "actor": ("Người thực hiện", "By"),
    "item_code": ("Mã tiêu chí", "Item code"),
    "action": ("Thao tác", "Action"),
    "before": ("Trước", "Before"),
    "after": ("Sau", "After"),
    "reason": ("Lý do", "Reason"),
    "tz_note": ("Giờ Việt Nam (UTC+7)", "Vietnam time (UTC+7)"),
    "page": ("Trang &P/&N", "Page &P of &N"),
    # charts
    "index_axis": ("Chỉ số CCHC", "PAR index"),
    "unit_index": ("Đơn vị", "Unit"),
    "group_average": ("Trung bình khối", "Group average"),
    "vs_group": ("so với TB khối", "vs group avg."),
    "previous": ("Năm trước", "Last year"),
    "field_index": ("Chỉ số theo lĩnh vực", "Index by field"),
    "not_started": ("Chưa bắt đầu", "Not started"),
    "in_progress": ("Đang chấm", "In progress"),
    "submitted": ("Đã gửi", "Submitted"),
    "appraised": ("Đã thẩm định", "Appraised"),
    "units_count": ("đơn vị", "units"),
    "share_axis": ("Tỷ lệ đơn vị (%)", "Share of units (%)"),
    "page_of": ("trang", "page"),
}


def label(key: str, locale: str = "vi") -> str:
    vi, en = _LABELS[key]
    return en if locale == "en" else vi


def survey_pending(points: Decimal, locale: str = "vi") -> str:
    """ "chưa có kết quả điều tra XHH (20 điểm)", or "" when nothing is pending."""
    if points <= 0:
        return ""
    return label("survey_pending", locale).format(points=fmt_points(points, locale))


def band_name(band: ClassBand | None, locale: str = "vi") -> str:
    """The class name of a band in the report's language ("" when there is none)."""
    if band is None:
        return ""
    if locale == "en" and band.name_en:
        return band.name_en
    return band.name_vi
