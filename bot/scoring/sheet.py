"""Totals of one unit's sheet: per criterion, per field and overall, with the N/A-adjusted maximum.

This is the one implementation behind progress screens, appraisal queues, rankings and exports
(SPEC §4): index = achieved / applicable max × 100, where items accepted as not applicable leave
both sums.

Survey items (rule kind `survey`, điều tra xã hội học) are entered by the secretariat, never by the
unit. Once entered for a unit, a survey item counts in both sums on every basis. Until then it is
*pending*: left out of both sums, and the sheet says how many points are pending
(`SheetResult.survey_pending_max`) so that every screen can say what the index is based on
(docs/criteria.md, "How the index is computed").
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

    Survey items take the entered survey result on every basis.
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
    survey: bool = False
    pending: bool = False  # a survey item not entered yet: out of both sums


@dataclass(frozen=True)
class Part:
    """Points and applicable maximum of one component of a sheet (appraised items, survey)."""

    points: Decimal = ZERO
    applicable_max: Decimal = ZERO


@dataclass(frozen=True)
class CriterionResult:
    code: str
    name: str
    points: Decimal
    max_points: Decimal
    applicable_max: Decimal
    index: Decimal
    leaves: list[str] = field(default_factory=list)
    pending_max: Decimal = ZERO


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
    pending_max: Decimal = ZERO


@dataclass(frozen=True)
class SheetResult:
    """`points` = appraised + survey points + bonus − penalty (never below 0); `applicable_max` =
    appraised + entered survey maxima; `answered`/`leaf_count` count the items the unit answers
    (survey items are not among them)."""

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
    appraised: Part = field(default_factory=Part)  # the non-survey items
    survey: Part = field(default_factory=Part)  # survey items entered so far
    survey_pending_max: Decimal = ZERO  # max points of survey items not entered yet

    @property
    def survey_pending(self) -> bool:
        return self.survey_pending_max > 0

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
        value = score.final if score.final is not None else score.appraisal1
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
    unanswered item is a lost item, not an N/A one), except survey items, which are pending until
    entered. Stored points are clamped to [0, leaf max] so that a later correction of a max cannot
    give an index over 100. Bonus and penalty are capped, apply to the overall total only, and the
    total never goes below 0.

    `include_survey=False` leaves survey items out of the sheet altogether, for periods without a
    survey component."""
    bonus = _cap(bonus, bonus_cap, "bonus")
    penalty = _cap(penalty, penalty_cap, "penalty")
    fields: list[FieldResult] = []
    leaves: dict[str, LeafResult] = {}
    empty = LeafScore()
    appraised_points = appraised_max = survey_points = survey_max = pending_total = ZERO
    for field_area in cs.fields:
        criteria: list[CriterionResult] = []
        f_points = f_max = f_applicable = f_pending = ZERO
        f_answered = f_count = 0
        for criterion in field_area.criteria:
            c_points = c_max = c_applicable = c_pending = ZERO
            codes: list[str] = []
            for leaf in criterion.leaves():
                survey = isinstance(leaf.rule, SurveyRule)
                if survey and not include_survey:
                    continue
                value, na = _value_and_na(leaf, scores.get(leaf.code, empty), basis)
                pending = survey and value is None and not na
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
                    survey=survey,
                    pending=pending,
                )
                codes.append(leaf.code)
                c_points += points
                c_max += leaf.max_points
                if pending:
                    c_pending += leaf.max_points
                elif not na:
                    c_applicable += leaf.max_points
                    if survey:
                        survey_max += leaf.max_points
                    else:
                        appraised_max += leaf.max_points
                if survey:
                    survey_points += points
                else:
                    appraised_points += points
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
                    pending_max=c_pending,
                )
            )
            f_points += c_points
            f_max += c_max
            f_applicable += c_applicable
            f_pending += c_pending
        if not criteria:
            continue
        pending_total += f_pending
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
                pending_max=f_pending,
            )
        )
    applicable = appraised_max + survey_max
    total = max(ZERO, appraised_points + survey_points + bonus - penalty)
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
        appraised=Part(appraised_points, appraised_max),
        survey=Part(survey_points, survey_max),
        survey_pending_max=pending_total,
    )
