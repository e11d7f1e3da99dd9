"""Invariants that must hold for any input, checked with hypothesis."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.scoring.bands import DEFAULT_BANDS, grade
from bot.scoring.codes import code_key
from bot.scoring.fmt import fmt_points
from bot.scoring.loader import CriteriaError, parse_criteria_set
from bot.scoring.model import CriteriaSet
from bot.scoring.numbers import InputError, parse_number
from bot.scoring.ranking import RankEntry, awards, rank_group
from bot.scoring.rules import score_answer, score_survey
from bot.scoring.sheet import Basis, LeafScore, compute_sheet

from .conftest import set_data

D = Decimal


def _all_na_allowed() -> CriteriaSet:
    data = set_data()
    for field in data["fields"]:
        for criterion in field["criteria"]:
            criterion["allow_na"] = True
            for sub in criterion.get("sub_criteria", []):
                sub["allow_na"] = True
    return parse_criteria_set(data)


CS = _all_na_allowed()
LEAVES = [leaf for _, _, leaf in CS.leaves()]
LEAF_CODES = [leaf.code for leaf in LEAVES]
MAX = {leaf.code: leaf.max_points for leaf in LEAVES}

number_like = st.text(alphabet="0123456789.,%/ -−+", max_size=20)
any_text = st.one_of(st.text(max_size=60), number_like)
points = st.decimals(min_value=-5, max_value=10, places=2, allow_nan=False, allow_infinity=False)
maybe_points = st.none() | points
leaf_scores = st.builds(
    LeafScore,
    self_points=maybe_points,
    appraisal1=maybe_points,
    final=maybe_points,
    na_claimed=st.booleans(),
    na_accepted=st.none() | st.booleans(),
)
score_maps = st.dictionaries(st.sampled_from(LEAF_CODES), leaf_scores)
bases = st.sampled_from(list(Basis))


@given(any_text)
def test_parse_number_raises_only_input_error(text: str) -> None:
    try:
        parsed = parse_number(text)
    except InputError as error:
        assert error.code in {"empty", "not_a_number", "negative", "bad_thousands", "zero_denominator"}
        return
    assert parsed.value >= 0
    assert parsed.value.is_finite()


@given(st.sampled_from(LEAVES), any_text)
def test_score_answer_stays_within_leaf_max(leaf: Any, text: str) -> None:
    try:
        answer = score_answer(leaf, text)
    except InputError:
        return
    assert D(0) <= answer.points <= leaf.max_points
    assert answer.raw


@given(any_text)
def test_score_survey_raises_only_input_error(text: str) -> None:
    leaf = CS.leaf("2.3")
    assert leaf is not None
    try:
        answer = score_survey(leaf, text)
    except InputError:
        return
    assert D(0) <= answer.points <= leaf.max_points


@given(st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False))
def test_ca_mau_bands_follow_the_wording(percent: Decimal) -> None:
    """1.1.4: "trên 90%: 2; từ 70% - 90%: 1; dưới 70%: 0", typed with a Vietnamese decimal comma."""
    leaf = CS.leaf("1.1.4")
    assert leaf is not None
    expected = D(2) if percent > 90 else D(1) if percent >= 70 else D(0)
    assert score_answer(leaf, fmt_points(percent) + " %").points == expected


@given(st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False))
def test_vietnamese_formatting_reads_back(value: Decimal) -> None:
    assert parse_number(fmt_points(value)).value == value


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False))
def test_english_decimals_read_back(value: Decimal) -> None:
    assert parse_number(fmt_points(value, "en")).value == value


@given(score_maps, bases, points.filter(lambda d: d >= 0), points.filter(lambda d: d >= 0))
def test_sheet_points_and_index_bounds(
    scores: dict[str, LeafScore], basis: Basis, bonus: Decimal, penalty: Decimal
) -> None:
    sheet = compute_sheet(CS, scores, basis, bonus=bonus, penalty=penalty)
    assert D(0) <= sheet.index <= D(100)
    assert D(0) <= sheet.applicable_max <= sheet.max_points == D(16)
    for leaf in sheet.leaves.values():
        assert D(0) <= leaf.points <= leaf.max_points
        if leaf.na:
            assert leaf.points == 0
    for field in sheet.fields:
        assert D(0) <= field.index <= D(100)
        assert field.points <= field.applicable_max
        assert sum((c.points for c in field.criteria), D(0)) == field.points
    leaf_total = sum((f.points for f in sheet.fields), D(0))
    assert sheet.points == max(D(0), leaf_total + sheet.bonus - sheet.penalty)
    assert 0 <= sheet.answered <= sheet.leaf_count == len(LEAVES) - 1  # the survey item is not answered
    # the survey component: in both sums once entered, out of both (pending) before
    survey = sheet.leaves["2.3"]
    assert leaf_total == sheet.appraised.points + sheet.survey.points
    assert sheet.applicable_max == sheet.appraised.applicable_max + sheet.survey.applicable_max
    assert survey.pending is (survey.points == 0 and not survey.na and survey.answered is False)
    assert sheet.survey_pending_max == (survey.max_points if survey.pending else 0)
    assert sheet.survey.applicable_max == (0 if survey.pending or survey.na else survey.max_points)


@given(st.sets(st.sampled_from(LEAF_CODES)))
def test_full_marks_give_100_whatever_is_na(na_codes: set[str]) -> None:
    assume(len(na_codes) < len(LEAF_CODES))
    scores = {
        code: LeafScore(
            self_points=MAX[code],
            appraisal1=MAX[code],
            final=MAX[code],
            na_claimed=code in na_codes,
            na_accepted=code in na_codes,
        )
        for code in LEAF_CODES
    }
    for basis in Basis:
        assert compute_sheet(CS, scores, basis).index == 100


@given(score_maps, st.sampled_from(LEAF_CODES))
def test_na_sits_between_zero_and_full_marks(scores: dict[str, LeafScore], code: str) -> None:
    """Marking an item N/A never gives a lower index than scoring it 0, nor a higher one than full
    marks: an appraiser accepting N/A cannot hurt a unit, and claiming it cannot beat doing the work."""
    zero = compute_sheet(CS, {**scores, code: LeafScore(final=D(0))}, Basis.FINAL).index
    na = compute_sheet(CS, {**scores, code: LeafScore(na_claimed=True, na_accepted=True)}, Basis.FINAL).index
    full = compute_sheet(CS, {**scores, code: LeafScore(final=MAX[code])}, Basis.FINAL).index
    assert zero <= na <= full


indexes = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False)
entries = st.lists(
    st.builds(
        RankEntry,
        unit_id=st.integers(0, 10**6),
        name=st.text(max_size=8),
        index=st.sampled_from([D(90), D("85.5"), D(70), D("89.996")]) | indexes | st.none(),
        ranked=st.booleans(),
        tie_break=st.none() | st.sampled_from([D(1), D(2)]),
    ),
    max_size=15,
)


@given(entries, st.booleans())
def test_ranks_are_consistent_with_order(items: list[RankEntry], use_tie_break: bool) -> None:
    rows = rank_group(items, use_tie_break=use_tie_break)
    assert sorted(r.unit_id for r in rows) == sorted(e.unit_id for e in items)
    ranked = [r for r in rows if r.ranked]
    assert rows[: len(ranked)] == ranked  # not-ranked units come last
    assert all(r.rank is None for r in rows[len(ranked) :])
    for row in ranked:
        assert row.rank is not None
        if not use_tie_break:
            assert row.rank == 1 + sum(1 for other in ranked if other.index > row.index)
    for higher, lower in itertools.pairwise(ranked):
        assert higher.index >= lower.index
        assert higher.rank is not None and lower.rank is not None and higher.rank <= lower.rank
        if higher.index > lower.index:
            assert higher.rank < lower.rank
    for row in rows:
        if row.index is None:  # no result: no index, no class, never ranked
            assert (row.ranked, row.published, row.band) == (False, None, None)
            continue
        assert row.published == grade(row.index).published
        assert row.band == (grade(row.index).band if row.ranked else None)


@given(entries, st.integers(0, 6), indexes)
def test_awards_never_exceed_n_and_split_ties_at_the_cap(
    items: list[RankEntry], top_n: int, threshold: Decimal
) -> None:
    rows = rank_group(items)
    chosen = awards(rows, top_n, threshold)
    eligible = [r for r in rows if r.ranked and r.published is not None and r.published >= threshold]
    assert len(chosen.proposed) <= top_n
    assert chosen.proposed == eligible[: len(chosen.proposed)]  # best first, nobody skipped
    if chosen.council:
        # the tie that crosses the cap: all share one rank, none is proposed, seats are left
        assert len({r.rank for r in chosen.council}) == 1
        assert len(chosen.proposed) + len(chosen.council) > top_n > len(chosen.proposed)
        assert chosen.seats == top_n - len(chosen.proposed)
        assert chosen.council == eligible[len(chosen.proposed) : len(chosen.proposed) + len(chosen.council)]
        assert all(p.rank is not None and p.rank < chosen.council[0].rank for p in chosen.proposed)  # type: ignore[operator]
    else:
        assert len(chosen.proposed) == min(top_n, len(eligible))


@given(indexes)
def test_grade_picks_the_highest_band_the_published_index_reaches(index: Decimal) -> None:
    graded = grade(index)
    assert graded.published >= graded.band.min
    position = DEFAULT_BANDS.index(graded.band)
    assert all(graded.published < higher.min for higher in DEFAULT_BANDS[:position])


@given(st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=4), min_size=1, max_size=10))
def test_code_key_orders_numeric_codes_like_tuples(parts: list[list[int]]) -> None:
    codes = [".".join(map(str, p)) for p in parts]
    assert sorted(codes, key=code_key) == [".".join(map(str, p)) for p in sorted(parts)]


json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 200)
    | st.text(max_size=6)
    | st.sampled_from(["1.5", "0,5", "NaN"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["code", "name", "max_points", "fields", "criteria", "sub_criteria", "rule", "kind",
                         "year", "unit_types", "levels", "points", "bands", "steps"]),
        children, max_size=5),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=200)
@given(json_like)
def test_loader_raises_only_criteria_error(data: Any) -> None:
    if not isinstance(data, dict):
        data = {"fields": data}
    try:
        parse_criteria_set(data, "fuzz")
    except CriteriaError as error:
        assert error.errors
