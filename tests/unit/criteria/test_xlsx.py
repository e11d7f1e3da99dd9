"""The XLSX template: YAML → XLSX → dict → model gives the same set, and mistakes in a filled
workbook are reported with their sheet row."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.criteria import TEMPLATE_PATH, shipped_path, shipped_sets
from bot.criteria.xlsx import (
    COLUMNS,
    SHEET_INFO,
    SHEET_ITEMS,
    CriteriaXlsxError,
    parse_decimal,
    read_criteria_xlsx,
    rule_params,
    write_criteria_xlsx,
)
from bot.scoring.loader import CriteriaError, load_criteria_set, parse_criteria_set, summary
from bot.scoring.model import BandsRule, CriteriaSet, LevelsRule


def _roundtrip(cs: CriteriaSet, tmp_path: Path) -> CriteriaSet:
    out = tmp_path / f"{cs.code}.xlsx"
    write_criteria_xlsx(cs, out)
    return parse_criteria_set(read_criteria_xlsx(out), str(out))


@pytest.mark.parametrize("path", shipped_sets(), ids=lambda p: p.stem)
def test_yaml_xlsx_roundtrip_gives_the_same_model(path: Path, tmp_path: Path) -> None:
    cs = load_criteria_set(path)
    again = _roundtrip(cs, tmp_path)
    assert again == cs
    assert again.content_hash() == cs.content_hash()


def test_shipped_template_parses_and_is_up_to_date(tmp_path: Path) -> None:
    cs = parse_criteria_set(read_criteria_xlsx(TEMPLATE_PATH), str(TEMPLATE_PATH))
    assert summary(cs) == {"fields": 7, "criteria": 25, "sub_criteria": 44, "max_points": "100"}
    assert cs.content_hash() == load_criteria_set(shipped_path("2018-so")).content_hash()
    # Regenerating gives the same bytes: `python -m bot.criteria.xlsx template` is deterministic.
    regenerated = tmp_path / "template.xlsx"
    write_criteria_xlsx(load_criteria_set(shipped_path("2018-so")), regenerated)
    assert regenerated.read_bytes() == TEMPLATE_PATH.read_bytes()


def test_template_layout() -> None:
    workbook = load_workbook(TEMPLATE_PATH)
    assert workbook.sheetnames[:2] == [SHEET_INFO, SHEET_ITEMS]
    items = workbook[SHEET_ITEMS]
    assert [cell.value for cell in items[1]] == [column.header for column in COLUMNS]
    assert items.freeze_panes == "A2"
    assert items.column_dimensions["C"].width == 55
    lists = [dv.formula1 for dv in items.data_validations.dataValidation]
    assert any("tieu_chi_thanh_phan" in f for f in lists)
    assert any("count_steps" in f for f in lists)
    info = {row[0]: row[1] for row in workbook[SHEET_INFO].iter_rows(min_row=2, values_only=True)}
    assert info["sample"] == "Có"
    assert info["unit_types"] == "so"


def test_rule_params_syntax() -> None:
    cs = load_criteria_set(shipped_path("2018-so"))
    leaf = cs.leaf("1.1.1")
    assert leaf is not None and isinstance(leaf.rule, LevelsRule)
    assert rule_params(leaf.rule) == "Ban hành kịp thời=1; Ban hành không kịp thời=0,5; Không ban hành=0"
    leaf = cs.leaf("1.1.2")
    assert leaf is not None and isinstance(leaf.rule, BandsRule)
    assert rule_params(leaf.rule) == ">90=3; [70,90]=1,5; <70=0"
    leaf = cs.leaf("1.4")
    assert leaf is not None
    assert rule_params(leaf.rule) == "4=3; 3=2; 2=1; 1=0,5; 0=0"
    leaf = cs.leaf("1.5")
    assert leaf is not None
    assert rule_params(leaf.rule) == "step=0,5"


def test_parse_decimal() -> None:
    assert parse_decimal("0,5") == Decimal("0.5")
    assert parse_decimal("1.5") == Decimal("1.5")
    assert parse_decimal(" 90 %") == Decimal("90")
    assert parse_decimal(2) == Decimal(2)
    assert parse_decimal(0.25) == Decimal("0.25")
    for bad in ("1,2,3", "abc", "-1", "", "1.234,5"):
        with pytest.raises(ValueError):
            parse_decimal(bad)


# ------------------------------------------------------------------------------ editing a workbook


def _column(key: str) -> int:
    return next(i for i, column in enumerate(COLUMNS, start=1) if column.key == key)


def _workbook_with(tmp_path: Path, edits: dict[str, dict[str, Any]]) -> tuple[Path, dict[str, int]]:
    """The 2018-so template with some cells changed: {item code: {column key: value}}. Returns the
    file and the row number of each edited code."""
    path = tmp_path / "edited.xlsx"
    write_criteria_xlsx(load_criteria_set(shipped_path("2018-so")), path)
    workbook = load_workbook(path)
    sheet = workbook[SHEET_ITEMS]
    rows: dict[str, int] = {}
    for row in range(2, sheet.max_row + 1):
        code = sheet.cell(row=row, column=_column("code")).value
        if code in edits:
            rows[code] = row
            for key, value in edits[code].items():
                sheet.cell(row=row, column=_column(key)).value = value
    workbook.save(path)
    return path, rows


def _errors(path: Path) -> list[str]:
    with pytest.raises(CriteriaXlsxError) as caught:
        read_criteria_xlsx(path)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, CriteriaError)
    return caught.value.errors


@pytest.mark.parametrize(
    ("code", "edit", "message"),
    [
        ("1.1.1", {"level": "tieu chi"}, "is not one of"),
        ("1.1.1", {"max_points": "1,2,3"}, "'1,2,3' is not a number"),
        ("1.1.2", {"rule_kind": "level"}, "unknown rule kind 'level'"),
        ("1.1.3", {"max_points": None}, "has no max points"),
        ("1.1.2", {"rule_params": ">90=3; 70-90=1,5; <70=0"}, "'70-90' is not a band"),
        ("1.4", {"rule_params": "bốn=3; 0=0"}, "is not a whole count"),
        ("5.4.1", {"rule_params": ""}, "write 'per=...'"),
        ("1.2.2", {"rule_params": "Có"}, "yes label / no label"),
        ("3.3.2", {"rule_kind": "survey", "rule_params": "x=1"}, "takes no parameters"),
        ("1.1.1", {"allow_na": "có lẽ"}, "expected Có or Không"),
        ("1", {"rule_kind": "levels"}, "has no rule"),
    ],
)
def test_bad_cell_names_the_row(tmp_path: Path, code: str, edit: dict[str, Any], message: str) -> None:
    path, rows = _workbook_with(tmp_path, {code: edit})
    errors = _errors(path)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{SHEET_ITEMS} row {rows[code]}: ")
    assert message in errors[0]


def test_duplicate_code_names_both_rows(tmp_path: Path) -> None:
    path, rows = _workbook_with(tmp_path, {"1.1.2": {"code": "1.1.1"}, "1.1.1": {}})
    errors = _errors(path)
    assert errors == [
        f"{SHEET_ITEMS} row {rows['1.1.2']}: duplicate code '1.1.1' (also in row {rows['1.1.1']})"
    ]


def test_all_errors_are_reported_at_once(tmp_path: Path) -> None:
    path, rows = _workbook_with(tmp_path, {"1.1.1": {"max_points": "abc"}, "7.4.3": {"rule_kind": "ratio"}})
    errors = _errors(path)
    assert [e.split(":")[0] for e in errors] == [
        f"{SHEET_ITEMS} row {rows['1.1.1']}",
        f"{SHEET_ITEMS} row {rows['7.4.3']}",
    ]


def test_sub_criterion_after_a_leaf_criterion(tmp_path: Path) -> None:
    # 1.3 is a criterion with its own rule; turning 1.4 into a sub-criterion puts it under 1.3.
    path, rows = _workbook_with(tmp_path, {"1.4": {"level": "tieu_chi_thanh_phan"}})
    errors = _errors(path)
    assert errors[0].startswith(f"{SHEET_ITEMS} row {rows['1.4']}: ")
    assert "has its own rule" in errors[0]


def test_bad_info_rows(tmp_path: Path) -> None:
    path = tmp_path / "info.xlsx"
    write_criteria_xlsx(load_criteria_set(shipped_path("2018-so")), path)
    workbook = load_workbook(path)
    sheet = workbook[SHEET_INFO]
    year_row = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == "year")
    sheet.cell(row=year_row, column=2).value = "năm 2018"
    sheet.append(["colour", "xanh"])
    workbook.save(path)
    errors = _errors(path)
    assert errors[0].startswith(f"{SHEET_INFO} row {year_row}: year")
    assert errors[1].startswith(f"{SHEET_INFO} row {sheet.max_row}: unknown key 'colour'")


def test_missing_sheet(tmp_path: Path) -> None:
    path = tmp_path / "nosheet.xlsx"
    write_criteria_xlsx(load_criteria_set(shipped_path("2018-so")), path)
    workbook = load_workbook(path)
    del workbook[SHEET_ITEMS]
    workbook.save(path)
    assert any("missing sheet 'Tiêu chí'" in e for e in _errors(path))


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "text.xlsx"
    path.write_text("not a workbook", encoding="utf-8")
    assert "cannot open the workbook" in _errors(path)[0]


def test_hand_typed_workbook_matches_yaml(tmp_path: Path) -> None:
    """A workbook typed by hand (text numbers with decimal commas, columns in another order, a
    band written with '..' and inclusive bounds) gives the model the YAML would give."""
    from openpyxl import Workbook

    workbook = Workbook()
    info = workbook.active
    assert info is not None
    info.title = SHEET_INFO
    for row in (
        ["key", "value"],
        ["code", "t-1"],
        ["name", "Thử"],
        ["year", "2026"],
        ["unit_types", "xa, phuong"],
        ["sample", "có"],
        ["sources", "Nguồn 1\nNguồn 2"],
        ["max_points", "2,5"],
    ):
        info.append(row)
    items = workbook.create_sheet(SHEET_ITEMS)
    items.append(["Tên", "Mã", "Cấp", "Điểm tối đa", "Loại quy tắc", "Tham số quy tắc", "Cách chấm"])
    items.append(["Lĩnh vực", "1", "linh_vuc", "2,5"])
    items.append(["Tiêu chí", "1.1", "tieu_chi", "2,5"])
    items.append(["A", "1.1.1", "tieu_chi_thanh_phan", "1,5", "bands", "unit=number; <=2,5=1,5; >2,5=0", "x"])
    items.append(["B", "1.1.2", "tieu_chi_thanh_phan", "1", "BANDS", "[0..50)=0; [50,100]=1", "y"])
    items.append([])
    path = tmp_path / "hand.xlsx"
    workbook.save(path)
    cs = parse_criteria_set(read_criteria_xlsx(path), str(path))
    assert cs.unit_types == ["xa", "phuong"]
    assert cs.sources == ["Nguồn 1", "Nguồn 2"]
    assert cs.max_points == Decimal("2.5")
    leaf = cs.leaf("1.1.1")
    assert leaf is not None and isinstance(leaf.rule, BandsRule)
    assert leaf.rule.unit == "number"
    assert leaf.rule.bands[0].max == Decimal("2.5") and leaf.rule.bands[0].max_inclusive
    assert leaf.appraisal_field == "1"  # the loader's default: the field's code
