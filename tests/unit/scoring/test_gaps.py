from decimal import Decimal

from bot.scoring.gaps import change_since, compare_fields, group_average, item_gaps
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
        "2.3": LeafScore(final=D(2)),
    }
    gaps = item_gaps(compute_sheet(cs, scores))
    assert [(g.code, g.lost) for g in gaps] == [("1.3", 2), ("2.2", D("1.5")), ("1.1.3", 1), ("1.1.4", 1),
                                                 ("1.1.1", D("0.5"))]  # fmt: skip
    assert gaps[0].field_code == "1" and gaps[0].max_points == 3 and gaps[0].points == 1
    assert [g.code for g in item_gaps(compute_sheet(cs, scores), limit=2)] == ["1.3", "2.2"]


def test_unanswered_items_are_gaps(cs: CriteriaSet) -> None:
    gaps = item_gaps(compute_sheet(cs, {}))
    assert gaps[0].code == "1.3" and gaps[0].lost == 3
    assert len(gaps) == 10


def test_compare_fields(cs: CriteriaSet) -> None:
    mine = compute_sheet(cs, {"1.3": LeafScore(self_points=D(3)), "2.2": LeafScore(self_points=D(2))})
    other = compute_sheet(cs, {"1.1.4": LeafScore(self_points=D(2)), "2.3": LeafScore(final=D(2))})
    only_na = compute_sheet(cs, {"2.1": LeafScore(na_claimed=True)})
    last_year = compute_sheet(cs, {"1.3": LeafScore(self_points=D(2))})
    rows = compare_fields(mine, [mine, other], previous=last_year)
    field1, field2 = rows
    assert (field1.code, field1.index, field1.group_average) == ("1", D(30), D(25))
    assert field1.delta_vs_group == D(5)
    assert field1.previous_index == D(20)
    assert change_since(field1.index, field1.previous_index) == D(10)
    assert (field2.index, field2.group_average, field2.delta_vs_group) == (D("100") / 3, D("100") / 3, 0)
    assert compare_fields(mine, [])[0].group_average is None
    assert compare_fields(mine, [only_na])[1].group_average == 0


def test_group_average_and_change() -> None:
    assert group_average([D(90), D(80), D(85)]) == D(85)
    assert group_average([]) is None
    assert change_since(D("87.5"), None) is None
    assert change_since(D("87.5"), D("90")) == D("-2.5")
