"""The criteria sets shipped with the product: they load, validate, match the counts the sources
state, and are plainly marked as samples."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.criteria import CRITERIA_DIR, shipped_path, shipped_sets
from bot.scoring.loader import load_criteria_set, summary, validate
from bot.scoring.model import CriteriaSet, RuleKind

EXPECTED = {
    # code: (unit types, summary)
    "2018-so": (["so"], {"fields": 7, "criteria": 25, "sub_criteria": 44, "max_points": "100"}),
    "2018-huyen": (["huyen"], {"fields": 7, "criteria": 27, "sub_criteria": 49, "max_points": "100"}),
    "2025-so": (["so"], None),
    "2025-xa": (["xa", "phuong", "dac_khu"], None),
}

# Seed 001: fields 17/15/18/8/18/6/18 and per-field (criteria, sub-criteria) counts.
FIELD_COUNTS_2018 = {
    "2018-so": [(5, 6, 17), (3, 5, 15), (4, 10, 18), (3, 4, 8), (4, 9, 18), (2, 0, 6), (4, 10, 18)],
    "2018-huyen": [(5, 6, 17), (3, 5, 15), (4, 12, 18), (3, 4, 8), (5, 12, 18), (3, 0, 6), (4, 10, 18)],
}

APPRAISERS_2018 = {"noi_vu", "tu_phap", "vp_ubnd", "tai_chinh", "tt_tt", "kh_cn"}
APPRAISERS_2025 = {"noi_vu", "tu_phap", "vp_ubnd", "tai_chinh", "kh_cn"}


def _load(code: str) -> CriteriaSet:
    return load_criteria_set(shipped_path(code))


def test_shipped_files_are_the_four_samples() -> None:
    assert [p.stem for p in shipped_sets()] == sorted(EXPECTED)
    assert all(p.parent == CRITERIA_DIR for p in shipped_sets())


def test_shipped_path_unknown_code() -> None:
    with pytest.raises(KeyError):
        shipped_path("1999-so")
    with pytest.raises(KeyError):
        shipped_path("../2018-so")


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_loads_validates_and_counts(code: str) -> None:
    cs = _load(code)
    unit_types, counts = EXPECTED[code]
    assert cs.code == code
    assert cs.unit_types == unit_types
    assert validate(cs) == []
    assert cs.max_points == Decimal(100)
    assert sum((f.max_points for f in cs.fields), Decimal(0)) == Decimal(100)
    assert sum((leaf.max_points for _, _, leaf in cs.leaves()), Decimal(0)) == Decimal(100)
    if counts is not None:
        assert summary(cs) == counts


@pytest.mark.parametrize("code", sorted(FIELD_COUNTS_2018))
def test_2018_per_field_counts_match_the_plan(code: str) -> None:
    cs = _load(code)
    actual = [
        (len(f.criteria), sum(len(c.sub_criteria) for c in f.criteria), int(f.max_points)) for f in cs.fields
    ]
    assert actual == FIELD_COUNTS_2018[code]


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_every_rule_kind_is_used(code: str) -> None:
    """Every kind appears in every sample, except the survey in the 2018 ones: seed 001 has no
    survey component (100 points, all appraised)."""
    kinds = {leaf.rule.kind for _, _, leaf in _load(code).leaves()}
    expected = {kind.value for kind in RuleKind}
    assert kinds == (expected - {RuleKind.SURVEY.value} if code.startswith("2018") else expected)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_marked_as_sample_with_sources(code: str) -> None:
    cs = _load(code)
    assert cs.sample is True
    assert len(cs.sources) >= 3
    assert "MẪU" in cs.name
    assert "KHÔNG phải bộ tiêu chí chính thức" in cs.notes
    assert "NOT an official set" in cs.notes
    assert Path(shipped_path(code)).read_text(encoding="utf-8").startswith("# SAMPLE criteria set")


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_every_leaf_is_complete(code: str) -> None:
    cs = _load(code)
    appraisers = APPRAISERS_2018 if cs.year < 2025 else APPRAISERS_2025
    for field_area, criterion, leaf in cs.leaves():
        assert leaf.rule_text.strip(), leaf.code
        assert leaf.evidence_hint.strip(), leaf.code
        assert leaf.appraisal_field in appraisers, leaf.code
        assert leaf.code.startswith(criterion.code), leaf.code
        assert criterion.code.startswith(field_area.code + "."), criterion.code
    for field_area in cs.fields:
        assert field_area.name_en, field_area.code
        for criterion in field_area.criteria:
            assert criterion.name_en, criterion.code


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_some_items_allow_not_applicable(code: str) -> None:
    assert any(leaf.allow_na for _, _, leaf in _load(code).leaves())


def test_2018_so_procedure_field_can_be_not_applicable() -> None:
    # Units without administrative procedures skip field 3 (domain research §2.6, Hà Nam 2023).
    cs = _load("2018-so")
    assert all(leaf.allow_na for f, _, leaf in cs.leaves() if f.code == "3")


@pytest.mark.parametrize("code", ["2025-so", "2025-xa"])
def test_2025_sets_use_merged_agencies_and_a_survey_field(code: str) -> None:
    cs = _load(code)
    assert "tt_tt" not in {leaf.appraisal_field for _, _, leaf in cs.leaves()}
    survey_field = cs.fields[-1]
    kinds = {leaf.rule.kind for c in survey_field.criteria for leaf in c.leaves()}
    assert "survey" in kinds
    names = [f.name for f in cs.fields]
    assert "Cải cách thể chế" in names
    assert "Cải cách chế độ công vụ" in names
    assert "Xây dựng và phát triển chính quyền điện tử, chính quyền số" in names
