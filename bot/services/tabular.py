"""Reading CSV and XLSX tables for imports: one header row, then data rows numbered as the user
sees them in a spreadsheet (the header is row 1), so errors can name the row."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.services.errors import ServiceError
from bot.services.names import fold


@dataclass(frozen=True)
class Row:
    number: int  # 1-based, header = 1
    values: dict[str, str]

    def get(self, key: str) -> str:
        return self.values.get(key, "").strip()


def _header_key(text: str, aliases: Mapping[str, str]) -> str:
    key = fold(str(text or "")).replace(" ", "_")
    return aliases.get(key, key)


def _rows(raw: Iterable[list[str]], file: str, aliases: Mapping[str, str]) -> list[Row]:
    iterator = iter(raw)
    header = next(iterator, None)
    if not header or not any(str(h or "").strip() for h in header):
        raise ServiceError("bad_file", file=file, reason="the first row must hold the column names")
    keys = [_header_key(h, aliases) for h in header]
    rows: list[Row] = []
    for number, cells in enumerate(iterator, start=2):
        values = {k: ("" if c is None else str(c)).strip() for k, c in zip(keys, cells, strict=False) if k}
        if any(values.values()):
            rows.append(Row(number, values))
    return rows


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_table(path: Path, aliases: Mapping[str, str] | None = None) -> list[Row]:
    """Rows of a .csv (UTF-8, `,` or `;`) or .xlsx (first sheet). Header names are folded
    ("Mã đơn vị" → "ma_don_vi") and mapped through `aliases` to canonical keys."""
    aliases = aliases or {}
    file = path.name
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ServiceError("bad_file", file=file, reason=f"cannot read the file ({exc.strerror})") from exc
    if suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ServiceError("bad_file", file=file, reason="not UTF-8 text; save the CSV as UTF-8") from exc
        first_line = text.split("\n", 1)[0]
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        try:
            return _rows(csv.reader(io.StringIO(text), delimiter=delimiter), file, aliases)
        except csv.Error as exc:
            raise ServiceError("bad_file", file=file, reason=f"malformed CSV: {exc}") from exc
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise ServiceError("bad_file", file=file, reason="not a valid XLSX workbook") from exc
        sheet = workbook.worksheets[0]
        raw = ([_cell_text(c) for c in row] for row in sheet.iter_rows(values_only=True))
        rows = _rows(raw, file, aliases)
        workbook.close()
        return rows
    raise ServiceError("bad_file", file=file, reason="expected a .csv or .xlsx file")


def raise_row_errors(file: str, errors: list[str]) -> None:
    if errors:
        summary = errors[0] if len(errors) == 1 else f"{len(errors)} errors: " + "; ".join(errors[:10])
        raise ServiceError("bad_rows", file=file, summary=summary, errors=errors)
