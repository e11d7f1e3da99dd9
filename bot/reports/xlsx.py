"""XLSX reports: the group summary as provinces publish it, a unit's items, the appraisal log.

Pure builders: rows in, file bytes out. No database, no Telegram; the caller decides what the
rows are (provisional or final, which basis) and says so in `basis_note`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports.labels import band_name, label, survey_pending
from bot.reports.rows import AuditRow, SummaryRow, UnitItemRow, UnitTotals
from bot.reports.xlsx_style import (
    BODY_FONT,
    BOLD_FONT,
    CENTER,
    CHANGE_FORMAT,
    DATETIME_FORMAT,
    FIELD_FILL,
    INDEX_FORMAT,
    NOTE_FONT,
    NUMBER,
    POINTS_FORMAT,
    PROVISIONAL_FONT,
    SUBTITLE_FONT,
    TITLE_FONT,
    WRAP,
    index_value,
    points_value,
    set_widths,
    setup_print,
    sheet_title,
    style_row,
    to_bytes,
    write_header,
    write_title,
)

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NA_MARK = "x"


def status_note(provisional: bool, basis_note: str, locale: str = "vi") -> str:
    """ "Kết quả tạm thời (<basis>)" before publication, "Kết quả chính thức[ – <basis>]" after."""
    if provisional:
        text = label("provisional", locale)
        return f"{text} ({basis_note})" if basis_note else text
    text = label("final", locale)
    return f"{text} – {basis_note}" if basis_note else text


# --- summary per group -----------------------------------------------------------------------------


def _write_titles(ws: Worksheet, ncols: int, title: str, subtitle: str, note: str, provisional: bool) -> None:
    """Rows 1-3 of a results sheet: the title, the group or period, and how final the figures are."""
    write_title(ws, 1, title, ncols, TITLE_FONT)
    ws.row_dimensions[1].height = 36
    write_title(ws, 2, subtitle, ncols, SUBTITLE_FONT)
    write_title(ws, 3, note, ncols, PROVISIONAL_FONT if provisional else NOTE_FONT)


def summary_workbook(
    title: str,
    groups: Sequence[tuple[str, Sequence[SummaryRow]]],
    provisional: bool,
    basis_note: str,
    locale: str = "vi",
) -> bytes:
    """One sheet per group: title, group, status note, then the table (STT, Đơn vị, Điểm tự đánh
    giá, Điểm thẩm định, Chỉ số CCHC, Xếp loại, Xếp hạng, [Thay đổi], Ghi chú) with the ranked
    units in the order given, and the units not ranked apart below with their reason."""
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    if not groups:
        groups = [("-", [])]
    for group_name, rows in groups:
        ws = wb.create_sheet(sheet_title(group_name, taken))
        _summary_sheet(ws, title, group_name, rows, provisional, basis_note, locale)
    return to_bytes(wb)


def summary_headers(with_change: bool, locale: str = "vi") -> list[str]:
    keys = ["stt", "unit", "self_points", "appraised_points", "index", "band", "rank"]
    if with_change:
        keys.append("change")
    keys.append("note")
    return [label(key, locale) for key in keys]


SUMMARY_HEADER_ROW = 4


def _summary_sheet(
    ws: Worksheet,
    title: str,
    group_name: str,
    rows: Sequence[SummaryRow],
    provisional: bool,
    basis_note: str,
    locale: str,
) -> None:
    with_change = any(row.change is not None for row in rows)
    headers = summary_headers(with_change, locale)
    ncols = len(headers)
    _write_titles(ws, ncols, title, group_name, status_note(provisional, basis_note, locale), provisional)
    write_header(ws, SUMMARY_HEADER_ROW, headers)

    aligns = [CENTER, WRAP, NUMBER, NUMBER, NUMBER, CENTER, CENTER]
    if with_change:
        aligns.append(NUMBER)
    aligns.append(WRAP)

    ranked = [row for row in rows if row.ranked]
    apart = [row for row in rows if not row.ranked]
    r = SUMMARY_HEADER_ROW
    for row in ranked:
        r += 1
        _summary_row(ws, r, row, with_change, locale)
        style_row(ws, r, aligns)
    last_ranked = r
    if apart:
        r += 2
        write_title(ws, r, label("not_ranked_heading", locale), ncols, BOLD_FONT)
        ws.cell(row=r, column=1).alignment = Alignment(horizontal="left")
        for row in apart:
            r += 1
            _summary_row(ws, r, row, with_change, locale)
            style_row(ws, r, aligns)
    widths = [6, 42, 13, 13, 12, 13, 10]
    if with_change:
        widths.append(13)
    widths.append(30)
    set_widths(ws, widths)
    setup_print(
        ws,
        SUMMARY_HEADER_ROW,
        ncols,
        r,
        landscape=True,
        footer=label("page", locale),
        autofilter_last_row=last_ranked,
    )


def _summary_row(ws: Worksheet, r: int, row: SummaryRow, with_change: bool, locale: str) -> None:
    rank: object = row.rank if row.ranked else (label("not_ranked", locale) if row.flagged else None)
    values: list[object] = [
        row.stt,
        row.unit_name,
        points_value(row.self_points),
        points_value(row.appraised_points),
        index_value(row.index),
        band_name(row.band, locale),
        rank,
    ]
    formats = ["0", None, POINTS_FORMAT, POINTS_FORMAT, INDEX_FORMAT, None, "0"]
    if with_change:
        values.append(index_value(row.change))
        formats.append(CHANGE_FORMAT)
    notes = [text for text in (row.reason, survey_pending(row.survey_pending_max, locale)) if text]
    values.append("; ".join(notes) or None)
    formats.append(None)
    for col, (value, fmt) in enumerate(zip(values, formats, strict=True), start=1):
        cell = ws.cell(row=r, column=col, value=value)
        if fmt is not None:
            cell.number_format = fmt


# --- one unit's items ------------------------------------------------------------------------------

UNIT_HEADER_ROW = 4
_INDENT = {"field": 0, "criterion": 1, "leaf": 2}


UNIT_KEYS = (
    "code",
    "content",
    "max_points",
    "self",
    "appraisal1",
    "comment1",
    "final_round",
    "comment_final",
    "final_points",
    "evidence_count",
    "na",
)
#: Column (1-based) of each header key of the unit sheet.
UNIT_COLUMNS = {key: n for n, key in enumerate(UNIT_KEYS, start=1)}
_COL = UNIT_COLUMNS
_NCOLS = len(UNIT_KEYS)


def unit_headers(locale: str = "vi") -> list[str]:
    return [label(key, locale) for key in UNIT_KEYS]


def unit_workbook(
    unit_name: str,
    period_name: str,
    rows: Sequence[UnitItemRow],
    totals: UnitTotals,
    provisional: bool = False,
    basis_note: str = "",
    locale: str = "vi",
) -> bytes:
    """Every item of one unit, fields and criteria in bold with their subtotals: max, self points,
    each appraisal round with its comment, the points counted; then bonus and penalty when any, the
    total (which includes them), the applicable maximum, the survey points still pending, the
    index and the class."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet_title(label("unit_sheet", locale), set())
    headers = unit_headers(locale)
    title = f"{label('unit_title', locale)}: {unit_name}"
    _write_titles(ws, _NCOLS, title, period_name, status_note(provisional, basis_note, locale), provisional)
    write_header(ws, UNIT_HEADER_ROW, headers)

    r = UNIT_HEADER_ROW
    for item in rows:
        r += 1
        _unit_item_row(ws, r, item, locale)
    last_item = r

    # items, then + bonus and − penalty, then the total that includes them (SheetResult.points)
    adjustments: list[tuple[str, Decimal]] = []
    if totals.bonus:
        adjustments.append((label("bonus", locale), totals.bonus))
    if totals.penalty:
        adjustments.append((label("penalty", locale), totals.penalty))
    for text, amount in adjustments:
        r += 1
        _summary_line(ws, r, text, _COL["final_points"], points_value(amount), POINTS_FORMAT)
    r += 1
    _points_line(
        ws,
        r,
        label("total", locale),
        {
            "max_points": totals.max_points,
            "self": totals.self_points,
            "appraisal1": totals.appraisal1,
            "final_round": totals.final_round,
            "final_points": totals.final,
        },
    )
    r += 1
    _summary_line(
        ws,
        r,
        label("applicable_max", locale),
        _COL["max_points"],
        points_value(totals.applicable_max),
        POINTS_FORMAT,
    )
    if totals.survey_pending_max > 0:
        r += 1
        _summary_line(
            ws,
            r,
            label("survey_pending_total", locale),
            _COL["max_points"],
            points_value(totals.survey_pending_max),
            POINTS_FORMAT,
        )
    r += 1
    if totals.index is None:
        text = label("no_index", locale) + (f": {totals.reason}" if totals.reason else "")
        _summary_line(ws, r, label("index", locale), _COL["final_points"], text, "General")
    else:
        _summary_line(
            ws, r, label("index", locale), _COL["final_points"], index_value(totals.index), INDEX_FORMAT
        )
        notes = [t for t in (totals.reason, survey_pending(totals.survey_pending_max, locale)) if t]
        ws.cell(row=r, column=_COL["comment_final"], value="; ".join(notes) or None)
    r += 1
    _summary_line(
        ws, r, label("band", locale), _COL["final_points"], band_name(totals.band, locale) or None, "General"
    )

    set_widths(ws, [9, 56, 10, 11, 11, 30, 11, 30, 11, 12, 10])
    setup_print(
        ws,
        UNIT_HEADER_ROW,
        _NCOLS,
        r,
        landscape=True,
        footer=label("page", locale),
        autofilter_last_row=last_item,
    )
    return to_bytes(wb)


_UNIT_ALIGNS = [WRAP, WRAP, NUMBER, NUMBER, NUMBER, WRAP, NUMBER, WRAP, NUMBER, CENTER, CENTER]
_POINT_KEYS = ("max_points", "self", "appraisal1", "final_round", "final_points")


def _summary_line(ws: Worksheet, r: int, text: str, col: int, value: object, fmt: str) -> None:
    style_row(ws, r, _UNIT_ALIGNS, BOLD_FONT)
    ws.cell(row=r, column=2, value=text)
    ws.cell(row=r, column=col, value=value).number_format = fmt


def _points_line(ws: Worksheet, r: int, name: str, points: dict[str, Decimal | None]) -> None:
    style_row(ws, r, _UNIT_ALIGNS, BOLD_FONT)
    ws.cell(row=r, column=2, value=name)
    for key, value in points.items():
        cell = ws.cell(row=r, column=_COL[key], value=points_value(value))
        cell.number_format = POINTS_FORMAT
    for col in range(1, _NCOLS + 1):
        ws.cell(row=r, column=col).fill = FIELD_FILL


def _unit_item_row(ws: Worksheet, r: int, item: UnitItemRow, locale: str) -> None:
    bold = item.level != "leaf"
    style_row(ws, r, _UNIT_ALIGNS, BOLD_FONT if bold else BODY_FONT)
    ws.cell(row=r, column=_COL["code"], value=item.code)
    name_cell = ws.cell(row=r, column=_COL["content"], value=item.name)
    name_cell.alignment = Alignment(wrap_text=True, vertical="top", indent=_INDENT[item.level])
    values = {
        "max_points": item.max_points,
        "self": item.self_points,
        "appraisal1": item.appraisal1,
        "final_round": item.final_round,
        "final_points": item.final,
    }
    for key, value in values.items():
        cell = ws.cell(row=r, column=_COL[key], value=points_value(value))
        cell.number_format = POINTS_FORMAT
    ws.cell(row=r, column=_COL["comment1"], value=item.comment1 or None)
    final_comment = item.comment_final or (label("survey_pending_item", locale) if item.pending else "")
    ws.cell(row=r, column=_COL["comment_final"], value=final_comment or None)
    ws.cell(row=r, column=_COL["evidence_count"], value=item.evidence_count).number_format = "0"
    ws.cell(row=r, column=_COL["na"], value=NA_MARK if item.na else None)
    if item.level == "field":
        for col in range(1, _NCOLS + 1):
            ws.cell(row=r, column=col).fill = FIELD_FILL


# --- appraisal log ---------------------------------------------------------------------------------

LOG_HEADER_ROW = 3


def log_headers(locale: str = "vi") -> list[str]:
    keys = ["at", "actor", "unit", "item_code", "action", "before", "after", "reason"]
    return [label(key, locale) for key in keys]


def appraisal_log_workbook(rows: Sequence[AuditRow], title: str = "", locale: str = "vi") -> bytes:
    """Who changed what, when and why, in the order given; times in Vietnam's local time."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet_title(label("log_sheet", locale), set())
    headers = log_headers(locale)
    ncols = len(headers)
    write_title(ws, 1, title or label("log_title", locale), ncols, TITLE_FONT)
    write_title(ws, 2, label("tz_note", locale), ncols, NOTE_FONT)
    write_header(ws, LOG_HEADER_ROW, headers)
    aligns = [CENTER, WRAP, WRAP, CENTER, WRAP, NUMBER, NUMBER, WRAP]
    r = LOG_HEADER_ROW
    for row in rows:
        if row.at.tzinfo is None or row.at.utcoffset() is None:
            raise ValueError(f"audit time must be timezone-aware: {row.at!r}")
        r += 1
        style_row(ws, r, aligns)
        local = row.at.astimezone(LOCAL_TZ).replace(tzinfo=None)
        ws.cell(row=r, column=1, value=local).number_format = DATETIME_FORMAT
        ws.cell(row=r, column=2, value=row.actor)
        ws.cell(row=r, column=3, value=row.unit)
        ws.cell(row=r, column=4, value=row.item_code)
        ws.cell(row=r, column=5, value=row.action)
        for col, value in ((6, row.before), (7, row.after)):
            cell = ws.cell(row=r, column=col)
            if isinstance(value, str):
                cell.value = value
                cell.alignment = CENTER
            elif value is not None:
                cell.value = points_value(value)
                cell.number_format = POINTS_FORMAT
        ws.cell(row=r, column=8, value=row.reason or None)
    set_widths(ws, [17, 24, 30, 11, 20, 9, 9, 45])
    setup_print(ws, LOG_HEADER_ROW, ncols, r, landscape=True, footer=label("page", locale))
    return to_bytes(wb)


__all__ = [
    "UNIT_COLUMNS",
    "appraisal_log_workbook",
    "log_headers",
    "status_note",
    "summary_headers",
    "summary_workbook",
    "unit_headers",
    "unit_workbook",
]
