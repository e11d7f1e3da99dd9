from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.scoring.codes import code_key
from bot.scoring.loader import (
    CriteriaError,
    load_criteria_set,
    parse_criteria_set,
    summary,
    validate,
)
from bot.scoring.model import CriteriaSet

from .conftest import set_data


def _errors(data: dict[str, Any]) -> list[str]:
    with pytest.raises(CriteriaError) as info:
        parse_criteria_set(data, "bad.yaml")
    assert str(info.value).startswith("bad.yaml: ")
    return info.value.errors


def _leaf(data: dict[str, Any], field: int, criterion: int, sub: int | None = None) -> dict[str, Any]:
    node: dict[str, Any] = data["fields"][field]["criteria"][criterion]
    return node if sub is None else node["sub_criteria"][sub]


def test_valid_set_summary_and_appraisal_fields(cs: CriteriaSet) -> None:
    assert validate(cs) == []
    assert summary(cs) == {"fields": 2, "criteria": 6, "sub_criteria": 6, "max_points": "16"}
    assert cs.leaf("1.1.1").appraisal_field == "1"  # type: ignore[union-attr]
    assert cs.leaf("1.2.1").appraisal_field == "vp"  # type: ignore[union-attr]
    assert cs.leaf("2.1").appraisal_field == "2"  # type: ignore[union-attr]  # criterion that is a leaf


def test_yaml_round_trip_keeps_decimals(tmp_path: Path) -> None:
    data = set_data()
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    loaded = load_criteria_set(path)
    assert loaded.leaf("1.1.1").rule.levels[1].points == Decimal("0.5")  # type: ignore[union-attr]
    assert loaded.max_points == Decimal(16)
    assert loaded.content_hash() == parse_criteria_set(data).content_hash()


def test_yaml_float_stays_exact(tmp_path: Path) -> None:
    data = set_data()
    _leaf(data, 1, 1)["rule"]["per_violation"] = "PLACEHOLDER"
    text = yaml.safe_dump(data, allow_unicode=True).replace("PLACEHOLDER", "0.1")
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    rule = load_criteria_set(path).leaf("2.2").rule  # type: ignore[union-attr]
    assert rule.per_violation == Decimal("0.1")  # type: ignore[union-attr]
    assert str(rule.per_violation) == "0.1"  # type: ignore[union-attr]


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("code: x\nname: y\nfields:\n  - code: 1\n   name: [unclosed\n", encoding="utf-8")
    with pytest.raises(CriteriaError) as info:
        load_criteria_set(path)
    assert "broken.yaml" in str(info.value)
    assert "line 5" in info.value.errors[0]


def test_missing_file_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(CriteriaError, match="cannot read"):
        load_criteria_set(tmp_path / "nope.yaml")
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(CriteriaError, match="mapping"):
        load_criteria_set(path)


def test_schema_errors_name_the_item() -> None:
    data = set_data()
    _leaf(data, 0, 0, 3)["max_points"] = "hai"
    _leaf(data, 1, 0)["rule"] = {"kind": "nonsense"}
    errors = _errors(data)
    assert any(e.startswith("1.1.4: max_points:") for e in errors), errors
    assert any(e.startswith("2.1: rule") for e in errors), errors


def test_duplicate_code() -> None:
    data = set_data()
    _leaf(data, 0, 0, 1)["code"] = "1.1.1"
    assert "1.1.1: duplicate code" in _errors(data)


def test_children_must_sum_to_parent() -> None:
    data = set_data()
    _leaf(data, 0, 0)["max_points"] = 6
    errors = _errors(data)
    assert "1.1: sub-criteria sum to 5, not the criterion's 6" in errors
    assert "1: criteria sum to 11, not the field's 10" in errors


def test_fields_must_sum_to_set_max() -> None:
    data = set_data()
    data["max_points"] = 100
    assert "set test-so: fields sum to 16, not the set's 100" in _errors(data)


def test_rule_must_reach_leaf_max() -> None:
    data = set_data()
    _leaf(data, 0, 0, 0)["rule"]["levels"][0]["points"] = "0.75"
    assert "1.1.1: the rule's reachable maximum 0.75 differs from the max points 1" in _errors(data)


def test_manual_step_must_divide_max() -> None:
    data = set_data()
    _leaf(data, 0, 1, 1)["rule"]["step"] = "0.3"
    assert "1.2.2: the rule's reachable maximum 0.9 differs from the max points 1" in _errors(data)


def test_positive_totals() -> None:
    data = set_data()
    _leaf(data, 0, 0, 1)["max_points"] = 0
    _leaf(data, 0, 0, 2)["max_points"] = 2
    errors = _errors(data)
    assert "1.1.2: max points must be positive" in errors


def test_bands_gap_and_overlap() -> None:
    data = set_data()
    bands = _leaf(data, 0, 0, 3)["rule"]["bands"]
    bands[1]["max_inclusive"] = False  # 90% itself falls in no band
    assert "1.1.4: gap between bands [70, 90) and (90, 100]" in _errors(data)
    data = set_data()
    bands = _leaf(data, 0, 0, 3)["rule"]["bands"]
    bands[0]["min_inclusive"] = True  # 90% in two bands
    assert "1.1.4: bands [70, 90] and [90, 100] overlap" in _errors(data)
    data = set_data()
    bands = _leaf(data, 0, 0, 3)["rule"]["bands"]
    bands[0]["max_inclusive"] = False
    assert "1.1.4: no band contains 100%" in _errors(data)


def test_criterion_needs_rule_or_subcriteria() -> None:
    data = set_data()
    del _leaf(data, 0, 2)["rule"]
    assert "1.3: has neither sub-criteria nor a rule" in _errors(data)


def test_errors_from_validate_do_not_raise(cs: CriteriaSet) -> None:
    broken = cs.model_copy(update={"max_points": Decimal(20)})
    assert validate(broken) == ["set test-so: fields sum to 16, not the set's 20"]


def test_code_key_is_natural() -> None:
    codes = ["1.10", "1.9", "2", "1.2.1", "10.1", "1.2"]
    assert sorted(codes, key=code_key) == ["1.2", "1.2.1", "1.9", "1.10", "2", "10.1"]


def test_code_key_orders_letters_after_numbers_without_raising() -> None:
    """ "3.2" beside "3.2a" broke /pending (a TypeError comparing int and str): one key for all."""
    codes = ["3.2b", "3.10", "3.2a", "3.2", "3.2.1", "III.1", "3.1", "3.2A"]
    assert sorted(codes, key=code_key) == ["3.1", "3.2", "3.2.1", "3.2a", "3.2A", "3.2b", "3.10", "III.1"]


HAND_WRITTEN = """\
code: tay-tay
name: Bộ viết tay
year: 2018
unit_types: [so]
max_points: 3
fields:
  - code: 1
    name: Lĩnh vực một
    max_points: 3
    criteria:
      - code: 1.10
        name: Tiêu chí mười
        max_points: 2.5
        rule: {kind: manual, step: 0.5}
        rule_text: Chấm tay
      - code: 1.9
        name: Tiêu chí chín
        max_points: 0.5
        appraisal_field: 7
        sub_criteria:
          - code: 1.9.1
            name: Có/không
            max_points: 0.5
            rule: {kind: boolean}
            rule_text: Có 0,5
"""


def test_hand_written_yaml_with_unquoted_codes(tmp_path: Path) -> None:
    path = tmp_path / "hand.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    loaded = load_criteria_set(path)
    assert [c.code for c in loaded.fields[0].criteria] == ["1.10", "1.9"]
    assert loaded.fields[0].code == "1"
    assert loaded.year == 2018
    assert loaded.leaf("1.10").appraisal_field == "1"  # type: ignore[union-attr]
    assert loaded.leaf("1.9.1").appraisal_field == "7"  # type: ignore[union-attr]  # inherited
    assert loaded.fields[0].criteria[1].appraisal_field == "7"
    assert summary(loaded) == {"fields": 1, "criteria": 2, "sub_criteria": 1, "max_points": "3"}


def test_number_band_rule_must_be_open_above() -> None:
    data = set_data()
    leaf = _leaf(data, 0, 0, 3)
    leaf["rule"] = {"kind": "bands", "unit": "number", "bands": [
        {"max": 5, "points": 0}, {"min": 5, "max": 10, "points": 2}]}  # fmt: skip
    assert "1.1.4: no band for values above 10" in _errors(data)
