"""Shared look of the XLSX reports: header style, number formats, print setup, cell values.

Every workbook leaves through `to_bytes`, which turns any text that would be read as a formula
("=HYPERLINK(...)" as a person's name, a unit name, a note) back into plain text: no export ever
holds a formula, so nothing a user typed can become a live link or a calculation in Excel.

Numbers go into cells as numbers (so a leader can sum and sort in Excel) with formats that show
the same digits as the chat: indexes with two decimals rounded half-up like `fmt_index`, points
as they are (up to three decimals, e.g. 0.125) like `fmt_points`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.scoring.fmt import round_index

#: Two decimals always; a third only when it is not zero (0.125 points exist, 17.5 shows 17.50).
POINTS_FORMAT = "0.00#"
INDEX_FORMAT = "0.00"
CHANGE_FORMAT = "+0.00;-0.00;0.00"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"

FONT_NAME = "Times New Roman"  # what provincial documents are printed in; covers Vietnamese
TITLE_FONT = Font(name=FONT_NAME, size=14, bold=True)
SUBTITLE_FONT = Font(name=FONT_NAME, size=12, bold=True)
NOTE_FONT = Font(name=FONT_NAME, size=11, italic=True)
PROVISIONAL_FONT = Font(name=FONT_NAME, size=11, italic=True, bold=True, color="C00000")
HEADER_FONT = Font(name=FONT_NAME, size=11, bold=True)
BODY_FONT = Font(name=FONT_NAME, size=11)
BOLD_FONT = Font(name=FONT_NAME, size=11, bold=True)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
FIELD_FILL = PatternFill("solid", fgColor="EDEDED")
_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="top", wrap_text=True)
NUMBER = Alignment(horizontal="right", vertical="top")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)

_TWO_PLACES = Decimal("0.01")
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")


def index_value(value: Decimal | None) -> float | None:
    """The published index: two decimals, half-up, the same digits as `fmt_index` in chat."""
    if value is None:
        return None
    return float(round_index(value))


def points_value(value: Decimal | None) -> float | None:
    """Points as they are when they have up to three decimals (every grid the criteria use);
    longer values only come from division and are rounded half-up to two, like `fmt_points`."""
    if value is None:
        return None
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -3:
        value = value.quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)
    return float(value)


def sheet_title(name: str, taken: set[str]) -> str:
    """An Excel-legal, unique sheet name (≤ 31 characters, none of []:*?/\\)."""
    base = _SHEET_TITLE_BAD.sub("-", name).strip("' ") or "Sheet"
    base = base[:31]
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(title.lower())
    return title


def write_title(ws: Worksheet, row: int, text: str, ncols: int, font: Font) -> None:
    ws.cell(row=row, column=1, value=text).font = font
    ws.cell(row=row, column=1).alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if ncols > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)


def write_header(ws: Worksheet, row: int, headers: Sequence[str]) -> None:
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=col, value=text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = HEADER_ALIGN
    ws.row_dimensions[row].height = 45


def set_widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


def setup_print(
    ws: Worksheet,
    header_row: int,
    ncols: int,
    last_row: int,
    landscape: bool,
    footer: str,
    autofilter_last_row: int | None = None,
) -> None:
    """Frozen header, autofilter, A4, fit to one page wide, header row repeated on every page."""
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    last_col = get_column_letter(ncols)
    filter_last = max(autofilter_last_row or last_row, header_row)
    ws.auto_filter.ref = f"A{header_row}:{last_col}{filter_last}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE if landscape else ws.ORIENTATION_PORTRAIT
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as needed
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_area = f"A1:{last_col}{max(last_row, header_row)}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = footer


def style_row(ws: Worksheet, row: int, aligns: Sequence[Alignment], font: Font = BODY_FONT) -> None:
    """Font, border and per-column alignment of one table row."""
    for col, align in enumerate(aligns, start=1):
        cell = ws.cell(row=row, column=col)
        cell.font = font
        cell.border = BORDER
        cell.alignment = align


#: What Excel (and LibreOffice) read as the start of a formula when a cell is typed or edited.
FORMULA_START = ("=", "+", "-", "@")


def as_text_cells(wb: Workbook) -> None:
    """Every string cell stays a string (openpyxl makes "=..." a formula), and text starting like a
    formula gets Excel's quote prefix, so editing the cell in Excel does not turn it into one."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if not isinstance(value, str):
                    continue
                if cell.data_type == "f":
                    cell.data_type = "s"
                if value.startswith(FORMULA_START):
                    cell.quotePrefix = True


def to_bytes(wb: Workbook) -> bytes:
    """The file's bytes, every typed text written as text (see `as_text_cells`)."""
    as_text_cells(wb)
    wb.properties.creator = "cchc-bot"
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
