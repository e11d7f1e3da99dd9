"""Totals of one unit's sheet: per criterion, per field and overall, with the N/A-adjusted maximum.

This is the one implementation behind progress screens, appraisal queues, rankings and exports
(SPEC §4): index = achieved / applicable max × 100, where items accepted as not applicable leave
both sums, and survey items (when the period has a survey) are in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from bot.scoring.fmt import fmt_index as fmt_index
from bot.scoring.fmt import fmt_points as fmt_points
from bot.scoring.model import CriteriaSet, Leaf, SurveyRule
from bot.scoring.numbers import CTX

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class Basis(StrEnum):
    """Which points a total is built from.

    - SELF: the unit's own points and its own N/A claims (what the officer sees while scoring).
    - APPRAISED: per leaf the latest appraiser value (final, else appraisal 1), else the unit's
      points; N/A counts when accepted, or claimed and not decided yet (work in progress).
    - FINAL: final, else appraisal 1; N/A only when accepted (what is published).
    """

    SELF = "self"
    APPRAISED = "appraised"
    FINAL = "final"


@dataclass(frozen=True)
class LeafScore:
    self_points: Decimal | None = None
    appraisal1: Decimal | None = None
    final: Decimal | None = None
    na_claimed: bool = False
    na_accepted: bool | None = None


@dataclass(frozen=True)
class LeafResult:
    code: str
    name: str
    field_code: str
    criterion_code: str
    max_points: Decimal
    points: Decimal
    answered: bool
    na: bool


@dataclass(frozen=True)
class CriterionResult:
    code: str
    name: str
    points: Decimal
    max_points: Decimal
    applicable_max: Decimal
    index: Decimal
    leaves: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FieldResult:
    code: str
    name: str
    points: Decimal
    max_points: Decimal
    applicable_max: Decimal
    index: Decimal
    answered: int
    leaf_count: int
    criteria: list[CriterionResult] = field(default_factory=list)


@dataclass(frozen=True)
class SheetResult:
    points: Decimal
    max_points: Decimal
    applicable_max: Decimal
    bonus: Decimal
    penalty: Decimal
    index: Decimal
    answered: int
    leaf_count: int
    fields: list[FieldResult] = field(default_factory=list)
    leaves: dict[str, LeafResult] = field(default_factory=dict)

    def field_by_code(self, code: str) -> FieldResult | None:
        for result in self.fields:
            if result.code == code:
                return result
        return None


def index_of(points: Decimal, applicable_max: Decimal) -> Decimal:
    """points / applicable_max × 100 at full precision (28 significant digits), within [0, 100];
    0 when nothing is applicable. Bonus points can push the raw ratio over 100: the index is capped
    because the classification and the published tables stop at 100."""
    if applicable_max <= 0:
        return ZERO
    value = CTX.divide(CTX.multiply(points, HUNDRED), applicable_max)
    return max(ZERO, min(HUNDRED, value))


def _value_and_na(leaf: Leaf, score: LeafScore, basis: Basis) -> tuple[Decimal | None, bool]:
    if isinstance(leaf.rule, SurveyRule):
        # Survey items have no self-score: whatever the secretariat entered counts on every basis.
        value = next((v for v in (score.final, score.appraisal1, score.self_points) if v is not None), None)
    elif basis is Basis.SELF:
        value = score.self_points
    elif basis is Basis.APPRAISED:
        value = next((v for v in (score.final, score.appraisal1, score.self_points) if v is not None), None)
    else:
        value = score.final if score.final is not None else score.appraisal1
    if not leaf.allow_na:
        return value, False
    if basis is Basis.SELF:
        na = score.na_claimed
    elif basis is Basis.APPRAISED:
        na = score.na_accepted is True or (score.na_claimed and score.na_accepted is None)
    else:
        na = score.na_accepted is True
    return value, na


def _cap(amount: Decimal | int, cap: Decimal | None, what: str) -> Decimal:
    if isinstance(amount, float) or isinstance(cap, float):
        raise TypeError(f"{what} must be a Decimal, not a float")
    amount = Decimal(amount)
    if amount < 0:
        raise ValueError(f"{what} cannot be negative")
    return amount if cap is None else min(amount, cap)


def compute_sheet(
    cs: CriteriaSet,
    scores: Mapping[str, LeafScore],
    basis: Basis = Basis.SELF,
    bonus: Decimal = ZERO,
    penalty: Decimal = ZERO,
    bonus_cap: Decimal | None = None,
    penalty_cap: Decimal | None = None,
    *,
    include_survey: bool = True,
) -> SheetResult:
    """Totals of one sheet. Leaves without a score count 0 and stay in the applicable max (an
    unanswered item is a lost item, not an N/A one). Stored points are clamped to [0, leaf max] so
    that a later correction of a max cannot give an index over 100. Bonus and penalty are capped,
    apply to the overall total only, and the total never goes below 0.

    `include_survey=False` leaves survey items out of the sheet altogether, for periods without a
    survey component."""
    bonus = _cap(bonus, bonus_cap, "bonus")
    penalty = _cap(penalty, penalty_cap, "penalty")
    fields: list[FieldResult] = []
    leaves: dict[str, LeafResult] = {}
    empty = LeafScore()
    for field_area in cs.fields:
        criteria: list[CriterionResult] = []
        f_points = f_max = f_applicable = ZERO
        f_answered = f_count = 0
        for criterion in field_area.criteria:
            c_points = c_max = c_applicable = ZERO
            codes: list[str] = []
            for leaf in criterion.leaves():
                if not include_survey and isinstance(leaf.rule, SurveyRule):
                    continue
                value, na = _value_and_na(leaf, scores.get(leaf.code, empty), basis)
                points = ZERO if na or value is None else max(ZERO, min(value, leaf.max_points))
                answered = na or value is not None
                leaves[leaf.code] = LeafResult(
                    code=leaf.code,
                    name=leaf.name,
                    field_code=field_area.code,
                    criterion_code=criterion.code,
                    max_points=leaf.max_points,
                    points=points,
                    answered=answered,
                    na=na,
                )
                codes.append(leaf.code)
                c_points += points
                c_max += leaf.max_points
                if not na:
                    c_applicable += leaf.max_points
                f_answered += answered
                f_count += 1
            if not codes:
                continue
            criteria.append(
                CriterionResult(
                    code=criterion.code,
                    name=criterion.name,
                    points=c_points,
                    max_points=c_max,
                    applicable_max=c_applicable,
                    index=index_of(c_points, c_applicable),
                    leaves=codes,
                )
            )
            f_points += c_points
            f_max += c_max
            f_applicable += c_applicable
        if not criteria:
            continue
        fields.append(
            FieldResult(
                code=field_area.code,
                name=field_area.name,
                points=f_points,
                max_points=f_max,
                applicable_max=f_applicable,
                index=index_of(f_points, f_applicable),
                answered=f_answered,
                leaf_count=f_count,
                criteria=criteria,
            )
        )
    leaf_points = sum((f.points for f in fields), ZERO)
    applicable = sum((f.applicable_max for f in fields), ZERO)
    total = max(ZERO, leaf_points + bonus - penalty)
    return SheetResult(
        points=total,
        max_points=sum((f.max_points for f in fields), ZERO),
        applicable_max=applicable,
        bonus=bonus,
        penalty=penalty,
        index=index_of(total, applicable),
        answered=sum(f.answered for f in fields),
        leaf_count=sum(f.leaf_count for f in fields),
        fields=fields,
        leaves=leaves,
    )
