"""The XLSX template for criteria sets: read a filled workbook into the YAML dict shape, write a set.

A province's secretariat types its official set into a spreadsheet more readily than into YAML, so the
workbook carries exactly what a YAML file carries and `read_criteria_xlsx` returns the same dict the
YAML loader reads; `bot.scoring.loader.parse_criteria_set` then validates either the same way.

Layout (documented for users in docs/criteria.md):

* sheet "Thông tin": rows of key | value | note. Keys: code, name, year, unit_types (comma separated),
  sample (Có/Không), sources (one row per source; a cell may also hold several lines), notes, max_points.
* sheet "Tiêu chí": one row per field, criterion and sub-criterion, in order, with the columns in
  `COLUMNS`. "Cấp" says which: linh_vuc | tieu_chi | tieu_chi_thanh_phan. A criterion row with a rule
  is a leaf; a criterion row without one is followed by its sub-criteria.
* sheet "Hướng dẫn": instructions only, never read.

Rule parameters ("Tham số quy tắc") use a compact syntax; items are separated by ";" (or new lines):

* levels       ``Ban hành kịp thời=1; Ban hành không kịp thời=0,5; Không ban hành=0``
                 (an English label may follow " | ": ``Kịp thời | On time=1``)
* boolean      ``Có / Không`` (yes label / no label; empty = "Có / Không")
* bands        ``>90=3; [70,90]=1,5; <70=0`` — ``>x`` ``>=x`` ``<x`` ``<=x`` ``[a,b]`` ``[a,b)`` ``(a,b]``
                 ``(a,b)`` and ``*`` (any value); a square bracket includes the bound, a round one
                 excludes it; use ``..`` between bounds that have decimal commas (``[70,5..90]``);
                 ``unit=number`` first for a plain number instead of a percentage
* count_steps  ``4=2; 3=1,5; 2=1; 1=0,5; 0=0`` (at least this count = points)
* manual       ``step=0,25``
* deduction    ``per=0,5`` (points taken off per violation)
* proportional, survey: empty

Numbers may use a decimal comma or point ("0,5", "0.5"). Every error names the sheet row
("Tiêu chí row 12: ...") and all errors of a workbook are reported at once.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports.xlsx_style import to_bytes
from bot.scoring.fmt import canonical
from bot.scoring.loader import CriteriaError
from bot.scoring.model import (
    Band,
    BandsRule,
    BooleanRule,
    CountStepsRule,
    CriteriaSet,
    DeductionRule,
    LevelsRule,
    ManualRule,
    ProportionalRule,
    RuleKind,
    SurveyRule,
)

SHEET_INFO = "Thông tin"
SHEET_ITEMS = "Tiêu chí"
SHEET_HELP = "Hướng dẫn"

LEVEL_FIELD = "linh_vuc"
LEVEL_CRITERION = "tieu_chi"
LEVEL_SUB = "tieu_chi_thanh_phan"
LEVELS = (LEVEL_FIELD, LEVEL_CRITERION, LEVEL_SUB)
RULE_KINDS = tuple(kind.value for kind in RuleKind)

YES = "Có"
NO = "Không"
_TRUE = {"có", "co", "x", "yes", "true", "1", "đúng"}
_FALSE = {"không", "khong", "no", "false", "0", ""}


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int
    wrap: bool = False


#: Columns of sheet "Tiêu chí", in the order the template writes them. The reader finds columns by
#: header text, so a province may reorder them or add its own (unknown headers are ignored).
COLUMNS: tuple[Column, ...] = (
    Column("code", "Mã", 9),
    Column("level", "Cấp", 20),
    Column("name", "Tên", 55, wrap=True),
    Column("name_en", "Tên tiếng Anh", 30, wrap=True),
    Column("max_points", "Điểm tối đa", 11),
    Column("rule_kind", "Loại quy tắc", 15),
    Column("rule_params", "Tham số quy tắc", 50, wrap=True),
    Column("rule_text", "Cách chấm", 60, wrap=True),
    Column("evidence_hint", "Tài liệu kiểm chứng", 45, wrap=True),
    Column("allow_na", "Cho phép không áp dụng", 13),
    Column("appraisal_field", "Lĩnh vực thẩm định", 15),
)
_REQUIRED_COLUMNS = ("code", "level", "name", "max_points", "rule_kind")

#: Keys of sheet "Thông tin" with the note written next to each.
INFO_KEYS: tuple[tuple[str, str], ...] = (
    ("code", "Mã bộ tiêu chí, không dấu, không khoảng trắng (ví dụ 2025-so)"),
    ("name", "Tên bộ tiêu chí"),
    ("year", "Năm áp dụng đầu tiên (ví dụ 2025)"),
    ("unit_types", "Loại đơn vị áp dụng, cách nhau bằng dấu phẩy: so, huyen, xa, phuong, dac_khu"),
    ("sample", "Có = bộ tiêu chí mẫu; Không = bộ tiêu chí chính thức"),
    ("sources", "Văn bản căn cứ, mỗi văn bản một dòng (có thể lặp lại dòng sources)"),
    ("notes", "Ghi chú"),
    ("max_points", "Tổng điểm tối đa (thường là 100)"),
)
_INFO_NOTES = dict(INFO_KEYS)

#: Fixed timestamp written into the template so that regenerating it gives the same bytes.
_FIXED_TIME = datetime(2018, 1, 1)
_ZIP_TIME = (2018, 1, 1, 0, 0, 0)


class CriteriaXlsxError(CriteriaError):
    """The workbook cannot be read as a criteria set. `errors` holds one line per problem, each naming
    the sheet and row ("Tiêu chí row 12: unknown rule kind 'level'")."""


class _RowError(ValueError):
    pass


# --------------------------------------------------------------------------------------------- numbers

_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")


def parse_decimal(value: object, what: str = "value") -> Decimal:
    """A non-negative number from a cell: a numeric cell, or text with a decimal comma or point
    ("0,5", "1.5", "90%"). Text such as "1,2,3" is refused rather than guessed."""
    if isinstance(value, bool):
        raise _RowError(f"{what}: expected a number, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise _RowError(f"{what}: {value} is negative")
        return Decimal(value)
    if isinstance(value, float):
        if value < 0:
            raise _RowError(f"{what}: {value} is negative")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").removesuffix("%")
    if not _NUMBER.match(text):
        raise _RowError(f"{what}: {str(value).strip()!r} is not a number (write e.g. 1 or 0,5)")
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes this
        raise _RowError(f"{what}: {value!r} is not a number") from exc


def _num(value: object, what: str) -> str:
    """The machine text of a number ("0.5", "100"), the form the YAML loader hands to the model."""
    return canonical(parse_decimal(value, what))


def _vi(value: Decimal) -> str:
    """A number as a Vietnamese officer writes it: decimal comma, no trailing zeros."""
    return canonical(value).replace(".", ",")


def _cell_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _flag(value: object, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _RowError(f"{what}: expected {YES} or {NO}, got {_text(value)!r}")


# ------------------------------------------------------------------------------------- rule parameters


def _items(params: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;\n]", params) if part.strip()]


def _split_pair(item: str, what: str) -> tuple[str, str]:
    if "=" not in item:
        raise _RowError(f"{what}: {item!r} should be written as 'label=points'")
    left, right = item.rsplit("=", 1)
    if not left.strip():
        raise _RowError(f"{what}: {item!r} has nothing before '='")
    return left.strip(), right.strip()


def _parse_levels(params: str) -> dict[str, Any]:
    levels: list[dict[str, Any]] = []
    for item in _items(params):
        label, points = _split_pair(item, "levels")
        level: dict[str, Any] = {"label": label, "points": _num(points, f"level {label!r}")}
        if " | " in label:
            vi, en = label.split(" | ", 1)
            level["label"], level["label_en"] = vi.strip(), en.strip()
        levels.append(level)
    if len(levels) < 2:
        raise _RowError("levels: list at least two levels, e.g. 'Đạt=1; Không đạt=0'")
    return {"kind": "levels", "levels": levels}


def _parse_boolean(params: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"kind": "boolean"}
    text = params.strip()
    if not text:
        return rule
    parts = [part.strip() for part in text.split(" / ")]
    if len(parts) != 2 or not all(parts):
        raise _RowError(f"boolean: write 'yes label / no label' (e.g. '{YES} / {NO}'), got {text!r}")
    rule["yes_label"], rule["no_label"] = parts
    return rule


_OPEN_BAND = re.compile(r"^(>=|<=|≥|≤|>|<)\s*(.+)$")
_INTERVAL = re.compile(r"^([\[(])(.+)([\])])$")


def _parse_band(interval: str) -> dict[str, Any]:
    text = interval.strip()
    if text == "*":
        return {}
    opened = _OPEN_BAND.match(text)
    if opened:
        op, number = opened.groups()
        value = _num(number, f"band {text!r}")
        if op in (">", ">=", "≥"):
            return {"min": value, "min_inclusive": op != ">"}
        return {"max": value, "max_inclusive": op != "<"}
    closed = _INTERVAL.match(text)
    if not closed:
        raise _RowError(
            f"bands: {text!r} is not a band; write e.g. '>90', '<=50', '[70,90]', '[70,90)' or '*'"
        )
    left, inner, right = closed.groups()
    bounds = inner.split("..") if ".." in inner else inner.split(",")
    if len(bounds) != 2:
        raise _RowError(f"bands: {text!r} needs two bounds; use '..' between bounds with decimal commas")
    return {
        "min": _num(bounds[0], f"band {text!r}"),
        "min_inclusive": left == "[",
        "max": _num(bounds[1], f"band {text!r}"),
        "max_inclusive": right == "]",
    }


_UNITS = {"percent": "percent", "%": "percent", "number": "number", "số": "number"}


def _parse_bands(params: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"kind": "bands", "unit": "percent", "bands": []}
    for item in _items(params):
        key, value = _split_pair(item, "bands")
        if key.casefold() in ("unit", "đơn vị"):
            unit = _UNITS.get(value.casefold())
            if unit is None:
                raise _RowError(f"bands: unit must be 'percent' or 'number', got {value!r}")
            rule["unit"] = unit
            continue
        band = _parse_band(key)
        band["points"] = _num(value, f"band {key!r}")
        rule["bands"].append(band)
    if not rule["bands"]:
        raise _RowError("bands: list at least one band, e.g. '>90=2; [70,90]=1; <70=0'")
    return rule


def _parse_count_steps(params: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    for item in _items(params):
        count, points = _split_pair(item, "count_steps")
        if not count.isdigit():
            raise _RowError(f"count_steps: {count!r} is not a whole count (write e.g. '4=2; 0=0')")
        steps.append({"at_least": int(count), "points": _num(points, f"step {count}")})
    if not steps:
        raise _RowError("count_steps: list at least one step, e.g. '4=2; 2=1; 0=0'")
    return {"kind": "count_steps", "steps": steps}


def _keyed(params: str, key: str, kind: str, required: bool) -> str | None:
    found: str | None = None
    for item in _items(params):
        name, value = _split_pair(item, kind)
        if name.casefold() != key:
            raise _RowError(f"{kind}: unknown parameter {name!r} (expected '{key}=...')")
        found = _num(value, f"{kind} {key}")
    if found is None and required:
        raise _RowError(f"{kind}: write '{key}=...' (e.g. '{key}=0,5')")
    return found


def _parse_rule(kind: str, params: str) -> dict[str, Any]:
    if kind == "levels":
        return _parse_levels(params)
    if kind == "boolean":
        return _parse_boolean(params)
    if kind == "bands":
        return _parse_bands(params)
    if kind == "count_steps":
        return _parse_count_steps(params)
    if kind == "manual":
        step = _keyed(params, "step", kind, required=False)
        return {"kind": kind} if step is None else {"kind": kind, "step": step}
    if kind == "deduction":
        return {"kind": kind, "per_violation": _keyed(params, "per", kind, required=True)}
    if kind in ("proportional", "survey"):
        if params.strip():
            raise _RowError(f"{kind}: takes no parameters, got {params.strip()!r}")
        return {"kind": kind}
    raise _RowError(f"unknown rule kind {kind!r} (expected one of: {', '.join(RULE_KINDS)})")


def rule_params(rule: object) -> str:
    """The "Tham số quy tắc" text of a rule, in the syntax `read_criteria_xlsx` reads."""
    if isinstance(rule, LevelsRule):
        return "; ".join(
            f"{level.label}{' | ' + level.label_en if level.label_en else ''}={_vi(level.points)}"
            for level in rule.levels
        )
    if isinstance(rule, BooleanRule):
        return f"{rule.yes_label} / {rule.no_label}"
    if isinstance(rule, BandsRule):
        parts = ["unit=number"] if rule.unit == "number" else []
        parts += [f"{_band_text(band)}={_vi(band.points)}" for band in rule.bands]
        return "; ".join(parts)
    if isinstance(rule, CountStepsRule):
        return "; ".join(f"{step.at_least}={_vi(step.points)}" for step in rule.steps)
    if isinstance(rule, ManualRule):
        return f"step={_vi(rule.step)}"
    if isinstance(rule, DeductionRule):
        return f"per={_vi(rule.per_violation)}"
    if isinstance(rule, ProportionalRule | SurveyRule) or rule is None:
        return ""
    raise TypeError(f"unknown rule {rule!r}")  # pragma: no cover


def _band_text(band: Band) -> str:
    if band.min is None and band.max is None:
        return "*"
    if band.max is None:
        assert band.min is not None
        return (">=" if band.min_inclusive else ">") + _vi(band.min)
    if band.min is None:
        return ("<=" if band.max_inclusive else "<") + _vi(band.max)
    low, high = _vi(band.min), _vi(band.max)
    sep = ".." if "," in low or "," in high else ","
    return ("[" if band.min_inclusive else "(") + low + sep + high + ("]" if band.max_inclusive else ")")


# ---------------------------------------------------------------------------------------------- reading


def read_criteria_xlsx(path: Path) -> dict[str, Any]:
    """Read a workbook in the template layout into the dict a YAML criteria file gives.

    Raises CriteriaXlsxError (a ValueError) listing every problem with its sheet row. The result is
    not validated beyond the template's own syntax: pass it to `parse_criteria_set`."""
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise CriteriaXlsxError([f"cannot open the workbook: {exc}"], str(path)) from exc
    try:
        errors: list[str] = []
        for sheet in (SHEET_INFO, SHEET_ITEMS):
            if sheet not in workbook.sheetnames:
                errors.append(f"missing sheet {sheet!r} (expected sheets {SHEET_INFO!r}, {SHEET_ITEMS!r})")
        if errors:
            raise CriteriaXlsxError(errors, str(path))
        data = _read_info(workbook[SHEET_INFO].iter_rows(values_only=True), errors)
        data["fields"] = _read_items(workbook[SHEET_ITEMS].iter_rows(values_only=True), errors)
    finally:
        workbook.close()
    if errors:
        raise CriteriaXlsxError(errors, str(path))
    return data


def _read_info(rows: Iterable[Sequence[object]], errors: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    sources: list[str] = []
    for number, row in enumerate(rows, start=1):
        cells = [*row, None, None]
        key, value = _text(cells[0]), cells[1]
        if number == 1 or not key:  # header row, blank rows
            continue
        where = f"{SHEET_INFO} row {number}"
        try:
            if key == "sources":
                sources += [line.strip() for line in _text(value).splitlines() if line.strip()]
                continue
            if key not in _INFO_NOTES:
                raise _RowError(f"unknown key {key!r} (expected one of: {', '.join(_INFO_NOTES)})")
            if key in data:
                raise _RowError(f"{key!r} is given twice")
            if key == "year":
                text = _text(value)
                if not text.isdigit():
                    raise _RowError(f"year: {text!r} is not a year")
                data[key] = int(text)
            elif key == "unit_types":
                data[key] = [part.strip() for part in _text(value).split(",") if part.strip()]
            elif key == "sample":
                data[key] = _flag(value, "sample")
            elif key == "max_points":
                data[key] = _num(value, "max_points")
            else:
                data[key] = _text(value)
        except _RowError as exc:
            errors.append(f"{where}: {exc}")
    for key in ("code", "name", "year", "unit_types"):
        if not data.get(key):
            errors.append(f"{SHEET_INFO}: missing {key!r}")
    if sources:
        data["sources"] = sources
    return data


def _header_map(header: Sequence[object], errors: list[str]) -> dict[str, int]:
    by_header = {column.header.casefold(): column.key for column in COLUMNS}
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = by_header.get(_text(cell).casefold())
        if key is not None and key not in positions:
            positions[key] = index
    for key in _REQUIRED_COLUMNS:
        if key not in positions:
            header_text = next(c.header for c in COLUMNS if c.key == key)
            errors.append(f"{SHEET_ITEMS} row 1: missing column {header_text!r}")
    return positions


def _read_items(rows: Iterable[Sequence[object]], errors: list[str]) -> list[dict[str, Any]]:
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        errors.append(f"{SHEET_ITEMS}: the sheet is empty")
        return []
    positions = _header_map(header, errors)
    if any(key not in positions for key in _REQUIRED_COLUMNS):
        return []

    fields: list[dict[str, Any]] = []
    field: dict[str, Any] | None = None
    criterion: dict[str, Any] | None = None
    seen: dict[str, int] = {}
    for number, row in enumerate(iterator, start=2):
        cells = {key: (row[index] if index < len(row) else None) for key, index in positions.items()}
        if all(_text(value) == "" for value in cells.values()):
            continue
        where = f"{SHEET_ITEMS} row {number}"
        try:
            item, level = _read_item(cells)
            code = item["code"]
            if code in seen:
                raise _RowError(f"duplicate code {code!r} (also in row {seen[code]})")
            seen[code] = number
            if level == LEVEL_FIELD:
                field, criterion = item, None
                fields.append(field)
            elif level == LEVEL_CRITERION:
                if field is None:
                    raise _RowError(f"criterion {code!r} comes before any {LEVEL_FIELD} row")
                criterion = item
                field["criteria"].append(criterion)
            else:
                if criterion is None:
                    raise _RowError(f"sub-criterion {code!r} comes before any {LEVEL_CRITERION} row")
                if "rule" in criterion:
                    raise _RowError(
                        f"sub-criterion {code!r} follows criterion {criterion['code']!r}, which has its own "
                        "rule; a criterion has either a rule or sub-criteria"
                    )
                criterion["sub_criteria"].append(item)
        except _RowError as exc:
            errors.append(f"{where}: {exc}")
            # Keep the nesting so that one bad row does not make its children errors too.
            level = _text(cells.get("level")).casefold()
            if level == LEVEL_FIELD:
                field, criterion = {"criteria": []}, None
            elif level == LEVEL_CRITERION:
                criterion = {"code": _text(cells.get("code")), "sub_criteria": []}
    if not fields and not errors:
        errors.append(f"{SHEET_ITEMS}: no {LEVEL_FIELD} rows")
    for field_item in fields:
        for criterion_item in field_item["criteria"]:
            if not criterion_item["sub_criteria"]:
                del criterion_item["sub_criteria"]
    return fields


def _read_item(cells: dict[str, object]) -> tuple[dict[str, Any], str]:
    level = _text(cells.get("level")).casefold()
    if level not in LEVELS:
        raise _RowError(f"Cấp: {_text(cells.get('level'))!r} is not one of {', '.join(LEVELS)}")
    code = _text(cells.get("code"))
    if not code:
        raise _RowError("Mã: the code is empty")
    name = _text(cells.get("name"))
    if not name:
        raise _RowError(f"Tên: item {code!r} has no name")
    max_cell = cells.get("max_points")
    if _text(max_cell) == "":
        raise _RowError(f"Điểm tối đa: item {code!r} has no max points")
    item: dict[str, Any] = {
        "code": code,
        "name": name,
        "name_en": _text(cells.get("name_en")) or None,
        "max_points": _num(max_cell, "Điểm tối đa"),
    }
    kind = _text(cells.get("rule_kind")).casefold()
    params = _text(cells.get("rule_params"))
    if level == LEVEL_FIELD:
        if kind or params:
            raise _RowError(f"a {LEVEL_FIELD} row has no rule; put rules on criteria or sub-criteria")
        item["criteria"] = []
        return item, level
    if kind:
        item["rule"] = _parse_rule(kind, params)
    elif params:
        raise _RowError("Tham số quy tắc given without a Loại quy tắc")
    elif level == LEVEL_SUB:
        raise _RowError(f"Loại quy tắc: sub-criterion {code!r} needs a rule kind")
    item["rule_text"] = _text(cells.get("rule_text"))
    item["evidence_hint"] = _text(cells.get("evidence_hint"))
    item["allow_na"] = _flag(cells.get("allow_na"), "Cho phép không áp dụng")
    item["appraisal_field"] = _text(cells.get("appraisal_field"))
    if level == LEVEL_CRITERION:
        item["sub_criteria"] = []
    return item, level


# ---------------------------------------------------------------------------------------------- writing

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_FIELD_FILL = PatternFill("solid", fgColor="D9E1F2")
_CRITERION_FILL = PatternFill("solid", fgColor="F2F2F2")
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_VALIDATED_ROWS = 1000

_HELP_LINES: tuple[str, ...] = (
    "MẪU NHẬP BỘ TIÊU CHÍ XÁC ĐỊNH CHỈ SỐ CCHC / CRITERIA SET TEMPLATE",
    "",
    "Sheet 'Thông tin': mỗi dòng một khóa (cột A) và giá trị (cột B). Dòng 'sources' có thể lặp lại.",
    "Sheet 'Tiêu chí': mỗi dòng một lĩnh vực, tiêu chí hoặc tiêu chí thành phần, theo đúng thứ tự.",
    "  Cấp: linh_vuc | tieu_chi | tieu_chi_thanh_phan.",
    "  Tiêu chí có 'Loại quy tắc' là tiêu chí được chấm trực tiếp (không có tiêu chí thành phần).",
    "  Điểm tối đa của các tiêu chí thành phần cộng lại phải bằng điểm của tiêu chí; tương tự với lĩnh vực.",
    "",
    "Loại quy tắc và cách ghi 'Tham số quy tắc' (các mục cách nhau bằng dấu ';'):",
    "  levels       Ban hành kịp thời=1; Ban hành không kịp thời=0,5; Không ban hành=0",
    "  boolean      Có / Không   (nhãn 'có' / nhãn 'không'; để trống = Có / Không)",
    "  bands        >90=2; [70,90]=1; <70=0   ([ ] gồm cả mốc, ( ) không gồm mốc; >=, <= cũng được;",
    "               mốc có số thập phân dùng '..': [70,5..90]; 'unit=number' nếu không phải tỷ lệ %)",
    "  proportional để trống — điểm = tỷ lệ a/b × điểm tối đa",
    "  count_steps  4=2; 3=1,5; 2=1; 1=0,5; 0=0   (đạt từ số lượng này trở lên = điểm)",
    "  manual       step=0,25   (chấm trực tiếp theo bước điểm)",
    "  deduction    per=0,5   (trừ điểm cho mỗi vi phạm, đến khi hết điểm)",
    "  survey       để trống — điểm điều tra xã hội học do cơ quan thường trực nhập",
    "",
    "Số thập phân ghi bằng dấu phẩy hoặc dấu chấm (0,5 hoặc 0.5).",
    "Cho phép không áp dụng: Có / Không. Lĩnh vực thẩm định: mã cơ quan thẩm định (noi_vu, tu_phap,",
    "vp_ubnd, tai_chinh, kh_cn...).",
    "Nạp vào hệ thống: cchc-bot criteria validate FILE.xlsx, rồi cchc-bot criteria import FILE.xlsx.",
)


def write_criteria_xlsx(cs: CriteriaSet, path: Path) -> None:
    """Write `cs` into the template layout. The bytes depend only on `cs` (fixed timestamps), so the
    shipped template can be regenerated and compared."""
    workbook = Workbook()
    workbook.properties.creator = "cchc-bot"
    workbook.properties.created = _FIXED_TIME
    workbook.properties.modified = _FIXED_TIME
    info = workbook.active
    assert info is not None
    info.title = SHEET_INFO
    _write_info(info, cs)
    _write_items(workbook.create_sheet(SHEET_ITEMS), cs)
    _write_help(workbook.create_sheet(SHEET_HELP))
    path.write_bytes(_deterministic_zip(to_bytes(workbook)))


def _header(sheet: Worksheet, headers: Sequence[str]) -> None:
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.freeze_panes = "A2"


def _write_info(sheet: Worksheet, cs: CriteriaSet) -> None:
    _header(sheet, ["Khóa (key)", "Giá trị (value)", "Ghi chú"])
    rows: list[tuple[str, object]] = [
        ("code", cs.code),
        ("name", cs.name),
        ("year", cs.year),
        ("unit_types", ", ".join(cs.unit_types)),
        ("sample", YES if cs.sample else NO),
    ]
    rows += [("sources", source) for source in cs.sources] or [("sources", "")]
    rows += [("notes", cs.notes), ("max_points", _cell_number(cs.max_points))]
    for key, value in rows:
        sheet.append([key, value, _INFO_NOTES[key]])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = _WRAP
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 90
    sheet.column_dimensions["C"].width = 60


def _write_items(sheet: Worksheet, cs: CriteriaSet) -> None:
    _header(sheet, [column.header for column in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for field_area in cs.fields:
        _append_item(
            sheet, LEVEL_FIELD, field_area.code, field_area.name, field_area.name_en, field_area.max_points
        )
        for criterion in field_area.criteria:
            # A criterion that only groups sub-criteria shows blank flags unless they carry something
            # (the loader gives such a criterion its field's code as appraising field anyway).
            group = bool(criterion.sub_criteria)
            _append_item(
                sheet,
                LEVEL_CRITERION,
                criterion.code,
                criterion.name,
                criterion.name_en,
                criterion.max_points,
                rule=criterion.rule,
                rule_text=criterion.rule_text,
                evidence_hint=criterion.evidence_hint,
                allow_na=None if group and not criterion.allow_na else criterion.allow_na,
                appraisal_field=""
                if group and criterion.appraisal_field == field_area.code
                else criterion.appraisal_field,
            )
            for leaf in criterion.sub_criteria:
                _append_item(
                    sheet,
                    LEVEL_SUB,
                    leaf.code,
                    leaf.name,
                    leaf.name_en,
                    leaf.max_points,
                    rule=leaf.rule,
                    rule_text=leaf.rule_text,
                    evidence_hint=leaf.evidence_hint,
                    allow_na=leaf.allow_na,
                    appraisal_field=leaf.appraisal_field,
                )
    _validation(sheet, "level", LEVELS)
    _validation(sheet, "rule_kind", RULE_KINDS)
    _validation(sheet, "allow_na", (YES, NO))


def _append_item(
    sheet: Worksheet,
    level: str,
    code: str,
    name: str,
    name_en: str | None,
    max_points: Decimal,
    *,
    rule: object = None,
    rule_text: str = "",
    evidence_hint: str = "",
    allow_na: bool | None = False,
    appraisal_field: str = "",
) -> None:
    is_field = level == LEVEL_FIELD
    kind = getattr(rule, "kind", "") if rule is not None else ""
    values: dict[str, object] = {
        "code": code,
        "level": level,
        "name": name,
        "name_en": name_en or "",
        "max_points": _cell_number(max_points),
        "rule_kind": kind,
        "rule_params": rule_params(rule) if rule is not None else "",
        "rule_text": rule_text,
        "evidence_hint": evidence_hint,
        "allow_na": "" if is_field or allow_na is None else (YES if allow_na else NO),
        "appraisal_field": appraisal_field,
    }
    sheet.append([values[column.key] for column in COLUMNS])
    row = sheet.max_row
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=row, column=index)
        cell.alignment = _WRAP if column.wrap else _TOP
        if is_field:
            cell.fill = _FIELD_FILL
            cell.font = _BOLD
        elif level == LEVEL_CRITERION:
            cell.fill = _CRITERION_FILL


def _validation(sheet: Worksheet, key: str, options: Sequence[str]) -> None:
    index = next(i for i, column in enumerate(COLUMNS, start=1) if column.key == key)
    letter = get_column_letter(index)
    rule = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
    rule.error = "Chọn một giá trị trong danh sách / pick a value from the list"
    rule.errorTitle = "Giá trị không hợp lệ"
    rule.showErrorMessage = True
    sheet.add_data_validation(rule)
    rule.add(f"{letter}2:{letter}{_VALIDATED_ROWS}")


def _write_help(sheet: Worksheet) -> None:
    for line in _HELP_LINES:
        sheet.append([line])
    sheet["A1"].font = _BOLD
    sheet.column_dimensions["A"].width = 110


_MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")


def _deterministic_zip(data: bytes) -> bytes:
    """Re-pack an XLSX with fixed member timestamps and a fixed modification time, so that the same
    set always gives the same bytes (openpyxl stamps the current time)."""
    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _MODIFIED.sub(rb"<dcterms:modified\1>" + stamp + rb"</dcterms:modified>", content)
            member = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            target.writestr(member, content)
    return out.getvalue()


# ---------------------------------------------------------------------------------- command-line entry


def _load_set(path: Path) -> CriteriaSet:
    from bot.scoring.loader import load_criteria_set, parse_criteria_set

    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return parse_criteria_set(read_criteria_xlsx(path), str(path))
    return load_criteria_set(path)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bot.criteria.xlsx template` regenerates bot/criteria/template.xlsx from the 2018
    departments sample; `... write SET.yaml OUT.xlsx` fills the template with any set; `... check
    FILE` reads a YAML or XLSX set and prints its counts."""
    from bot.criteria import TEMPLATE_PATH, shipped_path
    from bot.scoring.loader import summary

    parser = argparse.ArgumentParser(prog="python -m bot.criteria.xlsx", description=main.__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    template = sub.add_parser("template", help="regenerate the shipped template")
    template.add_argument("--out", type=Path, default=TEMPLATE_PATH)
    write = sub.add_parser("write", help="write a YAML/XLSX set into the template layout")
    write.add_argument("source", type=Path)
    write.add_argument("out", type=Path)
    check = sub.add_parser("check", help="read and validate a YAML/XLSX set")
    check.add_argument("source", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.action == "template":
            write_criteria_xlsx(_load_set(shipped_path("2018-so")), args.out)
            print(f"wrote {args.out}")
        elif args.action == "write":
            write_criteria_xlsx(_load_set(args.source), args.out)
            print(f"wrote {args.out}")
        else:
            print(summary(_load_set(args.source)))
    except CriteriaError as exc:
        for line in exc.errors:
            print(f"  {line}", file=sys.stderr)
        print(f"error: {exc.source or 'criteria set'}: {len(exc.errors)} error(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
