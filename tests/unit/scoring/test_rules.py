from decimal import Decimal

import pytest

from bot.scoring.model import CriteriaSet, Leaf
from bot.scoring.numbers import InputError
from bot.scoring.rules import Answer, choices, expects_text, reachable_max, score_answer, score_survey


def _score(cs: CriteriaSet, code: str, text: str) -> Answer:
    leaf = cs.leaf(code)
    assert leaf is not None
    return score_answer(leaf, text)


def _error(cs: CriteriaSet, code: str, text: str) -> InputError:
    with pytest.raises(InputError) as info:
        _score(cs, code, text)
    return info.value


@pytest.mark.parametrize(
    ("text", "points"),
    [("95%", "2"), ("100%", "2"), ("90%", "1"), ("90,0 %", "1"), ("70%", "1"), ("69.9%", "0"), ("0", "0")],
)
def test_ca_mau_1_1_4_bands(cs: CriteriaSet, text: str, points: str) -> None:
    assert _score(cs, "1.1.4", text).points == Decimal(points)


def test_bands_accept_a_ratio_and_a_bare_percent(cs: CriteriaSet) -> None:
    answer = _score(cs, "1.1.4", "46/50")
    assert answer.points == 2
    assert answer.raw == "46/50"
    assert answer.display == "46/50 = 92%"
    assert _score(cs, "1.1.4", "45/50").points == 1  # exactly 90% is not "trên 90%"
    assert _score(cs, "1.1.4", "95").points == 2


def test_bands_reject_more_than_100_percent(cs: CriteriaSet) -> None:
    error = _error(cs, "1.1.4", "101%")
    assert (error.code, error.params) == ("over_max", {"max": "100%"})
    assert _error(cs, "1.1.4", "51/50").code == "ratio_over_one"


def test_levels(cs: CriteriaSet) -> None:
    assert _score(cs, "1.1.1", "0") == Answer(raw="level:0", points=Decimal(1), display="Ban hành kịp thời")
    assert _score(cs, "1.1.1", "level:1").points == Decimal("0.5")
    assert _score(cs, "1.1.1", "2").points == 0
    assert _error(cs, "1.1.1", "3").code == "unknown_choice"
    assert _error(cs, "1.1.1", "kịp thời").code == "unknown_choice"
    assert _error(cs, "1.1.1", " ").code == "empty"


@pytest.mark.parametrize(
    ("text", "points", "raw"),
    [
        ("yes", 1, "yes"),
        ("Có", 1, "yes"),
        ("1", 1, "yes"),
        ("no", 0, "no"),
        ("KHÔNG", 0, "no"),
        ("0", 0, "no"),
    ],
)
def test_boolean(cs: CriteriaSet, text: str, points: int, raw: str) -> None:
    answer = _score(cs, "1.1.3", text)
    assert (answer.points, answer.raw) == (points, raw)
    assert answer.display == ("Đạt" if points else "Không đạt")


def test_boolean_rejects_other_text(cs: CriteriaSet) -> None:
    assert _error(cs, "1.1.2", "maybe").code == "unknown_choice"


@pytest.mark.parametrize(
    ("text", "points", "display"),
    [
        ("45/50", "1.8", "45/50 = 90%"),
        ("1/3", "0.67", "1/3 = 33,33%"),
        ("90%", "1.8", "90%"),
        ("50/50", "2", "50/50 = 100%"),
        ("0/7", "0", "0/7 = 0%"),
    ],
)
def test_proportional(cs: CriteriaSet, text: str, points: str, display: str) -> None:
    answer = _score(cs, "2.1", text)
    assert answer.points == Decimal(points)
    assert answer.display == display


def test_proportional_errors(cs: CriteriaSet) -> None:
    assert _error(cs, "2.1", "60/50").code == "ratio_over_one"
    assert _error(cs, "2.1", "50/0").code == "zero_denominator"
    assert _error(cs, "2.1", "120%").code == "ratio_over_one"


@pytest.mark.parametrize(("text", "points"), [("0", 0), ("1", 1), ("2", 2), ("3", 2), ("4", 3), ("40", 3)])
def test_count_steps(cs: CriteriaSet, text: str, points: int) -> None:
    assert _score(cs, "1.3", text).points == points


def test_count_steps_need_a_whole_number(cs: CriteriaSet) -> None:
    assert _error(cs, "1.3", "2,5").code == "not_integer"
    assert _error(cs, "1.3", "-1").code == "negative"


@pytest.mark.parametrize(
    ("text", "points"), [("0", "2"), ("1", "1.5"), ("3", "0.5"), ("4", "0"), ("10", "0")]
)
def test_deduction(cs: CriteriaSet, text: str, points: str) -> None:
    """Max 2, 0.5 per violation, floored at 0."""
    assert _score(cs, "2.2", text).points == Decimal(points)


def test_deduction_display(cs: CriteriaSet) -> None:
    assert _score(cs, "2.2", "3").display == "3 × −0,5"


def test_manual(cs: CriteriaSet) -> None:
    answer = _score(cs, "1.2.2", "0,75")
    assert (answer.raw, answer.points, answer.display) == ("0.75", Decimal("0.75"), "0,75")
    error = _error(cs, "1.2.2", "0,3")
    assert (error.code, error.params) == ("not_on_step", {"step": "0.25"})
    error = _error(cs, "1.2.2", "1,25")
    assert (error.code, error.params) == ("over_max", {"max": "1"})
    assert _error(cs, "1.2.2", "1/2").code == "not_a_number"
    assert _error(cs, "1.2.2", "1,234,5").code == "bad_thousands"


def test_survey_is_not_self_scored(cs: CriteriaSet) -> None:
    assert _error(cs, "2.3", "2").code == "not_self_scored"
    leaf = cs.leaf("2.3")
    assert leaf is not None
    assert score_survey(leaf, "1,62").points == Decimal("1.62")
    with pytest.raises(InputError) as info:
        score_survey(leaf, "2,5")
    assert info.value.params == {"max": "2"}
    other = cs.leaf("2.2")
    assert other is not None
    with pytest.raises(ValueError, match="not a survey item"):
        score_survey(other, "1")


def test_choices_and_expects_text(cs: CriteriaSet) -> None:
    levels = cs.leaf("1.1.1")
    boolean = cs.leaf("1.1.3")
    assert levels is not None and boolean is not None
    assert choices(levels) == [
        ("0", "Ban hành kịp thời", Decimal(1)),
        ("1", "Không kịp thời", Decimal("0.5")),
        ("2", "Không ban hành", Decimal(0)),
    ]
    assert choices(boolean) == [("yes", "Đạt", Decimal(1)), ("no", "Không đạt", Decimal(0))]
    expected = {
        "1.1.1": False,
        "1.1.2": False,
        "1.1.4": True,
        "1.2.2": True,
        "1.3": True,
        "2.1": True,
        "2.2": True,
        "2.3": False,
    }
    assert {code: expects_text(cs.leaf(code)) for code in expected} == expected  # type: ignore[arg-type]
    assert choices(cs.leaf("2.1")) == []  # type: ignore[arg-type]


def test_reachable_max_equals_leaf_max_in_a_valid_set(cs: CriteriaSet) -> None:
    for _, _, leaf in cs.leaves():
        assert reachable_max(leaf) == leaf.max_points


def test_number_bands() -> None:
    leaf = Leaf.model_validate(
        {
            "code": "5.1",
            "name": "Số sáng kiến",
            "max_points": 2,
            "rule_text": "Dưới 3: 0; 3 đến dưới 10: 1; từ 10: 2",
            "rule": {
                "kind": "bands",
                "unit": "number",
                "bands": [
                    {"max": 3, "points": 0},
                    {"min": 3, "max": 10, "points": 1},
                    {"min": 10, "points": 2},
                ],
            },
        }
    )
    assert [score_answer(leaf, t).points for t in ("0", "2,5", "3", "9", "10", "1.000")] == [0, 0, 1, 1, 2, 2]
    assert score_answer(leaf, "1.000").display == "1000"
    assert score_answer(leaf, "12").raw == "12"
