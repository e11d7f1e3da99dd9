from decimal import Decimal

from bot.scoring.gaps import (
    change_since,
    compare,
    group_average,
    group_averages,
    item_gaps,
    item_indexes,
)
from bot.scoring.model import CriteriaSet
from bot.scoring.sheet import LeafScore, compute_sheet

D = Decimal


def test_item_gaps_sorted_by_points_lost(cs: CriteriaSet) -> None:
    scores = {
        "1.1.1": LeafScore(self_points=D("0.5")),
        "1.1.2": LeafScore(self_points=D(1)),
        "1.1.3": LeafScore(self_points=D(0)),
        "1.1.4": LeafScore(self_points=D(1)),
        "1.2.1": LeafScore(self_points=D(1)),
        "1.2.2": LeafScore(self_points=D(1)),
        "1.3": LeafScore(self_points=D(1)),
        "2.1": LeafScore(na_claimed=True),
        "2.2": LeafScore(self_points=D("0.5")),
        "2.3": LeafScore(final=D(1)),  # survey: 1 of 2, but not the unit's to fix
    }
    gaps = item_gaps(compute_sheet(cs, scores))
    assert [(g.code, g.lost) for g in gaps] == [("1.3", 2), ("2.2", D("1.5")), ("1.1.3", 1), ("1.1.4", 1),
                                                 ("1.1.1", D("0.5"))]  # fmt: skip
    assert gaps[0].field_code == "1" and gaps[0].max_points == 3 and gaps[0].points == 1
    assert [g.code for g in item_gaps(compute_sheet(cs, scores), limit=2)] == ["1.3", "2.2"]


def test_unanswered_items_are_gaps_but_pending_survey_items_are_not(cs: CriteriaSet) -> None:
    gaps = item_gaps(compute_sheet(cs, {}))
    assert gaps[0].code == "1.3" and gaps[0].lost == 3
    assert len(gaps) == 9 and "2.3" not in {g.code for g in gaps}


def test_item_indexes_cover_fields_criteria_and_sub_criteria(cs: CriteriaSet) -> None:
    sheet = compute_sheet(
        cs,
        {
            "1.1.1": LeafScore(self_points=D("0.5")),
            "1.3": LeafScore(self_points=D(3)),
            "2.1": LeafScore(na_claimed=True),
        },
    )
    indexes = item_indexes(sheet)
    assert indexes["1.1.1"] == 50 and indexes["1.1"] == 10 and indexes["1"] == 35
    assert indexes["1.3"] == 100  # a criterion without sub-criteria is its own leaf
    assert "2.1" not in indexes  # N/A: not compared
    assert "2.3" not in indexes  # survey not entered: not compared
    assert indexes["2"] == 0  # 0 of the 2 applicable points of 2.2


def test_compare_per_field_criterion_and_sub_criterion(cs: CriteriaSet) -> None:
    mine = compute_sheet(cs, {"1.3": LeafScore(self_points=D(3)), "2.2": LeafScore(self_points=D(2))})
    other = compute_sheet(cs, {"1.1.4": LeafScore(self_points=D(2)), "2.3": LeafScore(final=D(2))})
    only_na = compute_sheet(cs, {"2.1": LeafScore(na_claimed=True)})
    last_year = compute_sheet(cs, {"1.3": LeafScore(self_points=D(2))})
    averages = group_averages(item_indexes(s) for s in (mine, other))
    rows = compare(mine, averages, item_indexes(last_year))
    field1, field2 = rows
    assert (field1.code, field1.index, field1.group_average) == ("1", D(30), D(25))
    assert field1.delta_vs_group == D(5)
    assert field1.previous_index == D(20)
    assert change_since(field1.index, field1.previous_index) == D(10)
    # field 2: mine 2/4 applicable (survey pending), the other 2/6 → averages of 50 and 33.3…
    assert field2.index == D(50) and field2.group_average == (D(50) + D(200) / 6) / 2
    criterion_11 = field1.children[0]
    assert (criterion_11.level, criterion_11.code, criterion_11.index, criterion_11.group_average) == (
        "criterion",
        "1.1",
        D(0),
        D(20),
    )
    leaf_114 = criterion_11.children[3]
    assert (leaf_114.level, leaf_114.code, leaf_114.index, leaf_114.group_average) == ("leaf", "1.1.4", 0, 50)
    assert leaf_114.delta_vs_group == -50
    criterion_13 = field1.children[2]
    assert criterion_13.children == [] and criterion_13.group_average == 50
    survey = field2.children[2]
    assert (survey.code, survey.index, survey.group_average) == ("2.3", None, D(100))  # pending for mine
    assert compare(mine)[0].group_average is None
    assert group_averages([item_indexes(only_na)])["2"] == 0
    assert "2.1" not in group_averages([item_indexes(only_na)])


def test_gaps_carry_the_group_average_of_the_item(cs: CriteriaSet) -> None:
    mine = compute_sheet(cs, {"1.3": LeafScore(self_points=D(1))})
    other = compute_sheet(cs, {"1.3": LeafScore(self_points=D(2))})
    averages = group_averages(item_indexes(s) for s in (mine, other))
    gap = next(g for g in item_gaps(mine, averages=averages) if g.code == "1.3")
    assert (gap.lost, gap.group_average) == (2, 50)


def test_group_average_and_change() -> None:
    assert group_average([D(90), D(80), D(85)]) == D(85)
    assert group_average([]) is None
    assert group_average([D(1) / 3, D(2) / 3, D(100)]) == group_average([D(100), D(2) / 3, D(1) / 3])
    assert change_since(D("87.5"), None) is None
    assert change_since(None, D("87.5")) is None
    assert change_since(D("87.5"), D("90")) == D("-2.5")
