from decimal import Decimal

import pytest

from bot.scoring.model import CriteriaSet
from bot.scoring.sheet import Basis, LeafScore, compute_sheet, fmt_index, fmt_points, index_of

D = Decimal
FULL = {
    "1.1.1": "1", "1.1.2": "1", "1.1.3": "1", "1.1.4": "2", "1.2.1": "1", "1.2.2": "1", "1.3": "3",
    "2.1": "2", "2.2": "2", "2.3": "2",
}  # fmt: skip


SURVEY = "2.3"


def _self(values: dict[str, str]) -> dict[str, LeafScore]:
    """The unit's own points; the survey item's value is the secretariat's entry."""
    return {
        code: LeafScore(final=D(v)) if code == SURVEY else LeafScore(self_points=D(v))
        for code, v in values.items()
    }


def test_totals_per_criterion_field_and_sheet(cs: CriteriaSet) -> None:
    scores = _self({**FULL, "1.1.1": "0.5", "1.1.4": "1", "2.2": "0.5"})
    sheet = compute_sheet(cs, scores)
    assert (sheet.points, sheet.max_points, sheet.applicable_max) == (D("13"), D(16), D(16))
    assert sheet.index == D("81.25")
    assert (sheet.answered, sheet.leaf_count) == (9, 9)  # the survey item is not the unit's to answer
    field1, field2 = sheet.fields
    assert (field1.code, field1.points, field1.max_points, field1.index) == ("1", D("8.5"), D(10), D(85))
    assert (field2.points, field2.index) == (D("4.5"), D(75))
    criterion = field1.criteria[0]
    assert (criterion.code, criterion.points, criterion.max_points, criterion.index) == (
        "1.1",
        D("3.5"),
        D(5),
        D(70),
    )
    assert criterion.leaves == ["1.1.1", "1.1.2", "1.1.3", "1.1.4"]
    leaf = sheet.leaves["1.3"]
    assert (leaf.field_code, leaf.criterion_code, leaf.points, leaf.answered) == ("1", "1.3", D(3), True)


def test_unanswered_items_count_zero_and_stay_in_the_max(cs: CriteriaSet) -> None:
    sheet = compute_sheet(cs, _self({"1.1.1": "1", "1.3": "3"}))
    # the survey item (2 points) is pending: out of both sums
    assert (sheet.points, sheet.applicable_max, sheet.answered) == (D(4), D(14), 2)
    assert sheet.index == D(4) * 100 / D(14)
    assert sheet.leaves["2.1"].answered is False
    assert compute_sheet(cs, {}).index == 0


def test_na_lowers_the_applicable_max(cs: CriteriaSet) -> None:
    """Thanh Hóa's Ban Dân tộc: points over a reduced max (domain §2.6)."""
    scores = _self({**FULL, "1.1.4": "0"})
    scores["2.1"] = LeafScore(na_claimed=True)
    sheet = compute_sheet(cs, scores)
    assert sheet.applicable_max == D(14)
    assert sheet.points == D(12)
    assert fmt_index(sheet.index) == "85,71"
    assert sheet.leaves["2.1"].na and sheet.leaves["2.1"].answered
    assert sheet.answered == 9
    field2 = sheet.fields[1]
    assert (field2.applicable_max, field2.index) == (D(4), D(100))


def test_na_only_on_leaves_that_allow_it(cs: CriteriaSet) -> None:
    scores = {**_self(FULL), "2.2": LeafScore(self_points=D(0), na_claimed=True, na_accepted=True)}
    sheet = compute_sheet(cs, scores, Basis.FINAL)
    assert sheet.applicable_max == D(16)
    assert sheet.leaves["2.2"].na is False


def test_bases_pick_the_right_points(cs: CriteriaSet) -> None:
    scores = {
        "1.1.1": LeafScore(self_points=D(1), appraisal1=D("0.5")),
        "1.1.2": LeafScore(self_points=D(1), appraisal1=D(0), final=D(1)),
        "1.1.3": LeafScore(self_points=D(1)),
    }
    self_sheet = compute_sheet(cs, scores, Basis.SELF)
    appraised = compute_sheet(cs, scores, Basis.APPRAISED)
    final = compute_sheet(cs, scores, Basis.FINAL)
    assert [self_sheet.leaves[c].points for c in ("1.1.1", "1.1.2", "1.1.3")] == [1, 1, 1]
    assert [appraised.leaves[c].points for c in ("1.1.1", "1.1.2", "1.1.3")] == [D("0.5"), 1, 1]
    assert [final.leaves[c].points for c in ("1.1.1", "1.1.2", "1.1.3")] == [D("0.5"), 1, 0]
    assert final.leaves["1.1.3"].answered is False
    assert (self_sheet.answered, appraised.answered, final.answered) == (3, 3, 2)


@pytest.mark.parametrize(
    ("na_claimed", "na_accepted", "expected"),
    [
        (True, None, {Basis.SELF: True, Basis.APPRAISED: True, Basis.FINAL: False}),
        (True, True, {Basis.SELF: True, Basis.APPRAISED: True, Basis.FINAL: True}),
        (True, False, {Basis.SELF: True, Basis.APPRAISED: False, Basis.FINAL: False}),
        (False, None, {Basis.SELF: False, Basis.APPRAISED: False, Basis.FINAL: False}),
    ],
)
def test_na_by_basis(
    cs: CriteriaSet, na_claimed: bool, na_accepted: bool | None, expected: dict[Basis, bool]
) -> None:
    scores = {"2.1": LeafScore(na_claimed=na_claimed, na_accepted=na_accepted), "2.3": LeafScore(final=D(1))}
    for basis, na in expected.items():
        sheet = compute_sheet(cs, scores, basis)
        assert sheet.leaves["2.1"].na is na, basis
        assert sheet.applicable_max == (D(14) if na else D(16))


def test_survey_counts_in_both_sums_on_every_basis(cs: CriteriaSet) -> None:
    scores = {**_self({k: v for k, v in FULL.items() if k != "2.3"}), "2.3": LeafScore(final=D("1.5"))}
    for basis in (Basis.SELF, Basis.APPRAISED):
        sheet = compute_sheet(cs, scores, basis)
        assert (sheet.points, sheet.applicable_max) == (D("15.5"), D(16))
        assert sheet.index == D("96.875")
    without = compute_sheet(cs, scores, include_survey=False)
    assert (without.points, without.applicable_max, without.index) == (D(14), D(14), D(100))
    assert "2.3" not in without.leaves
    assert without.leaf_count == 9


def test_bonus_and_penalty_are_capped(cs: CriteriaSet) -> None:
    scores = _self({**FULL, "1.3": "0", "2.1": "0"})  # 11 / 16
    sheet = compute_sheet(cs, scores, bonus=D(3), bonus_cap=D(2), penalty=D("0.5"))
    assert (sheet.bonus, sheet.penalty, sheet.points) == (D(2), D("0.5"), D("12.5"))
    assert sheet.index == D("78.125")
    capped = compute_sheet(cs, _self(FULL), bonus=D(5))
    assert capped.index == 100
    floored = compute_sheet(cs, {}, penalty=D(10), penalty_cap=D(20))
    assert (floored.points, floored.index) == (0, 0)
    with pytest.raises(ValueError, match="bonus"):
        compute_sheet(cs, {}, bonus=D(-1))
    with pytest.raises(TypeError, match="float"):
        compute_sheet(cs, {}, bonus=0.5)  # type: ignore[arg-type]


def test_stored_points_above_max_are_clamped(cs: CriteriaSet) -> None:
    sheet = compute_sheet(cs, _self({**FULL, "1.1.1": "5"}))
    assert sheet.leaves["1.1.1"].points == 1
    assert sheet.index == 100


def test_index_of() -> None:
    assert index_of(D("68.32"), D(84)) == D("68.32") * 100 / D(84)
    assert fmt_index(index_of(D("68.32"), D(84))) == "81,33"
    assert index_of(D(5), D(0)) == 0
    assert index_of(D(110), D(100)) == 100


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [
        ("87.125", "87,13", "87.13"),
        ("87.124999", "87,12", "87.12"),
        ("100", "100,00", "100.00"),
        ("0", "0,00", "0.00"),
    ],
)
def test_fmt_index(value: str, vi: str, en: str) -> None:
    assert fmt_index(D(value)) == vi
    assert fmt_index(D(value), locale="en") == en


@pytest.mark.parametrize(
    ("value", "text"), [("1.50", "1,5"), ("2", "2"), ("2.0", "2"), ("0.25", "0,25"), ("100", "100"),
                        ("0.125", "0,125"), ("0.66666667", "0,67"), ("0", "0")]
)  # fmt: skip
def test_fmt_points(value: str, text: str) -> None:
    assert fmt_points(D(value)) == text
    assert fmt_points(D(value), "en") == text.replace(",", ".")
