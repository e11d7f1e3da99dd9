"""Per-unit totals by SQL aggregation, for rankings of large groups (3,300 communes × 50 items).

The pure core (`compute_sheet`) builds every unit's whole sheet in Python: per field, per criterion,
per leaf. A ranking needs only a few numbers per unit: the points achieved, the applicable maximum
and the survey points still pending. Points are stored as integer ten-thousandths
(`bot.db.types.Points`), so `SUM` over item_scores is exact on SQLite and PostgreSQL; this module
sums them with GROUP BY and hands the sums to the core's own `index_of` and `rank_group` (which
grades with `bands.grade`). The per-leaf rules (which value counts on each
basis, when N/A counts, clamping to [0, leaf max]) are the core's `_value_and_na`, written as SQL
CASE expressions; tests/services/test_ranking_sql.py proves on generated data (hypothesis, both
databases) that the result equals `rank_period`, the core path.

The group averages of the gap analysis (per field, criterion and sub-criterion) come from the same
CASE expressions grouped by item (`item_averages`), fed to the core's `gaps.group_averages`.

Simple cases only: `supported()` is False when the period names a tie-break field (that needs
per-field sums) or a leaf max has more than four decimals; callers then use the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.db.models import AppraisalStatus, Assessment, ItemScore, Period, RankingGroup, Unit
from bot.db.types import POINTS_SCALE
from bot.scoring.gaps import group_averages
from bot.scoring.model import CriteriaSet, SurveyRule
from bot.scoring.ranking import RankEntry, RankRow, rank_group
from bot.scoring.sheet import Basis, index_of
from bot.services.errors import ServiceError
from bot.services.periods import criteria_for
from bot.services.ranking import RANKABLE, period_bands, standing

ZERO = Decimal(0)

#: Groups with at least this many active units are ranked by SQL aggregation when `supported()`;
#: below it the core path is fast enough (about 2 ms per 50-item unit) and gives whole sheets.
SQL_MIN_UNITS = 200


@dataclass(frozen=True)
class UnitTotal:
    """Totals of one assessment: leaf points (before bonus/penalty), the applicable maximum and the
    survey points not entered yet (SheetResult.survey_pending_max)."""

    leaf_points: Decimal
    applicable_max: Decimal
    points: Decimal  # with the capped bonus and penalty, never below 0 (SheetResult.points)
    index: Decimal
    survey_pending_max: Decimal = ZERO


def _scaled(value: Decimal) -> int | None:
    """Leaf max in ten-thousandths, or None when it cannot be stored exactly that way."""
    scaled = value * POINTS_SCALE
    return int(scaled) if scaled == scaled.to_integral_value() else None


@dataclass(frozen=True)
class LeafRow:
    code: str
    max_points: int  # ten-thousandths
    allow_na: bool
    survey: bool
    field_code: str
    criterion_code: str


def _leaves(cs: CriteriaSet, include_survey: bool) -> list[LeafRow]:
    rows: list[LeafRow] = []
    for area, criterion, leaf in cs.leaves():
        survey = isinstance(leaf.rule, SurveyRule)
        if survey and not include_survey:
            continue
        scaled = _scaled(leaf.max_points)
        if scaled is None:
            raise ValueError(f"leaf {leaf.code}: max {leaf.max_points} has more than 4 decimals")
        rows.append(LeafRow(leaf.code, scaled, leaf.allow_na, survey, area.code, criterion.code))
    return rows


def supported(period: Period, sets: Sequence[CriteriaSet]) -> bool:
    """True when the SQL path computes exactly what the core computes for this period."""
    if isinstance((period.settings or {}).get("tie_break"), str):
        return False
    return all(_scaled(leaf.max_points) is not None for cs in sets for _f, _c, leaf in cs.leaves())


def _leaf_cte(rows: list[LeafRow]) -> Any:
    selects = [
        select(
            literal(row.code, String).label("code"),
            literal(row.max_points, BigInteger).label("max_points"),
            literal(int(row.allow_na), Integer).label("allow_na"),
            literal(int(row.survey), Integer).label("survey"),
            literal(row.field_code, String).label("field_code"),
            literal(row.criterion_code, String).label("criterion_code"),
        )
        for row in rows
    ]
    # MATERIALIZED: PostgreSQL scans the 50-row leaf table once instead of inlining the UNION into
    # the join (0.12 s against 0.22 s for 165,000 items in bench/ranking.py). Like every query here
    # it needs table statistics: on a freshly bulk-loaded database without ANALYZE the planner
    # picks nested loops and the same query takes 45 s.
    return union_all(*selects).cte("leaf_max").prefix_with("MATERIALIZED", dialect="postgresql")


def _int(column: Any) -> ColumnElement[int]:
    """The raw ten-thousandths of a Points column (no Decimal conversion inside SQL)."""
    return type_coerce(column, BigInteger)


@dataclass(frozen=True)
class _Columns:
    """Per item row, as the core's `_value_and_na` + clamp + survey rule: the points, the max when
    the item is N/A (non-survey items), the max of an entered survey item, and the max of a survey
    item that is settled (entered or N/A), all in ten-thousandths."""

    points: ColumnElement[int]
    na_max: ColumnElement[int]
    survey_entered: ColumnElement[int]
    survey_settled: ColumnElement[int]


def _columns(leaves: Any, basis: Basis) -> _Columns:
    self_p, a1, final = (
        _int(ItemScore.self_points),
        _int(ItemScore.appraisal1_points),
        _int(ItemScore.final_points),
    )
    accepted, refused = AppraisalStatus.NA_ACCEPTED.value, AppraisalStatus.NA_REFUSED.value
    decision = case(
        (ItemScore.final_status == accepted, 1),
        (ItemScore.final_status == refused, 0),
        (ItemScore.appraisal1_status == accepted, 1),
        (ItemScore.appraisal1_status == refused, 0),
        else_=None,
    )
    is_survey = leaves.c.survey == 1
    claimed = ItemScore.na_claimed.is_(True)
    value: ColumnElement[Any]
    na: ColumnElement[bool]
    entered = func.coalesce(final, a1)
    if basis is Basis.SELF:
        value = case((is_survey, entered), else_=self_p)
        na = claimed
    elif basis is Basis.APPRAISED:
        value = case((is_survey, entered), else_=func.coalesce(final, a1, self_p))
        na = or_(decision == 1, and_(claimed, decision.is_(None)))
    else:
        value = entered
        na = decision == 1
    na = and_(leaves.c.allow_na == 1, na)
    limit = leaves.c.max_points
    points = case(
        (na, 0),
        (value.is_(None), 0),
        (value > limit, limit),
        (value < 0, 0),
        else_=value,
    )
    return _Columns(
        points=points,
        na_max=case((and_(na, leaves.c.survey == 0), limit), else_=0),
        survey_entered=case((and_(is_survey, ~na, value.is_not(None)), limit), else_=0),
        survey_settled=case((and_(is_survey, or_(na, value.is_not(None))), limit), else_=0),
    )


def _cap(amount: Decimal, cap: Decimal | None) -> Decimal:
    return amount if cap is None else min(amount, cap)


def _dec(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _points(ten_thousandths: int) -> Decimal:
    return Decimal(ten_thousandths).scaleb(-4)


@dataclass(frozen=True)
class _Maxima:
    """Per grouping key (all leaves, a field, a criterion or a leaf): the summed max of its
    non-survey leaves and of its survey leaves, in ten-thousandths."""

    appraised: int = 0
    survey: int = 0


def _maxima(rows: list[LeafRow], key: Any) -> dict[str, _Maxima]:
    found: dict[str, _Maxima] = {}
    for row in rows:
        k = key(row)
        m = found.get(k, _Maxima())
        found[k] = (
            _Maxima(m.appraised, m.survey + row.max_points)
            if row.survey
            else _Maxima(m.appraised + row.max_points, m.survey)
        )
    return found


def _applicable(maxima: _Maxima, na: int, entered: int) -> int:
    """Applicable max: non-survey max without the N/A items, plus the entered survey items."""
    return maxima.appraised - na + entered


async def unit_totals(
    session: AsyncSession,
    period: Period,
    cs: CriteriaSet,
    unit_types: Sequence[str],
    group_id: int,
    basis: Basis,
) -> dict[int, UnitTotal]:
    """Totals of every assessment of the period whose unit is active, in the group and of one of
    `unit_types` (the types that use `cs`), keyed by unit id. One GROUP BY query."""
    settings = period.settings or {}
    include_survey = bool(settings.get("survey", True))
    rows = _leaves(cs, include_survey)
    whole = _maxima(rows, lambda _row: "")[""] if rows else _Maxima()
    leaves = _leaf_cte(rows)
    cols = _columns(leaves, basis)
    scope = (
        Assessment.period_id == period.id,
        Unit.group_id == group_id,
        Unit.active.is_(True),
        Unit.unit_type.in_(list(unit_types)),
    )
    sums = (
        select(
            ItemScore.assessment_id.label("assessment_id"),
            func.sum(cols.points).label("points"),
            func.sum(cols.na_max).label("na_max"),
            func.sum(cols.survey_entered).label("entered"),
            func.sum(cols.survey_settled).label("settled"),
        )
        .join(leaves, leaves.c.code == ItemScore.item_code)
        .join(Assessment, Assessment.id == ItemScore.assessment_id)
        .join(Unit, Unit.id == Assessment.unit_id)
        .where(*scope)
        .group_by(ItemScore.assessment_id)
        .subquery()
    )
    query = (
        select(
            Assessment.unit_id,
            Assessment.bonus,
            Assessment.penalty,
            sums.c.points,
            sums.c.na_max,
            sums.c.entered,
            sums.c.settled,
        )
        .join(Unit, Unit.id == Assessment.unit_id)
        .outerjoin(sums, sums.c.assessment_id == Assessment.id)
        .where(*scope)
    )
    bonus_cap, penalty_cap = _dec(settings.get("bonus_cap")), _dec(settings.get("penalty_cap"))
    result: dict[int, UnitTotal] = {}
    for unit_id, bonus, penalty, summed, na, entered, settled in await session.execute(query):
        leaf_points = _points(int(summed or 0))
        applicable = _points(_applicable(whole, int(na or 0), int(entered or 0)))
        pending = _points(whole.survey - int(settled or 0))
        total = max(ZERO, leaf_points + _cap(bonus or ZERO, bonus_cap) - _cap(penalty or ZERO, penalty_cap))
        result[unit_id] = UnitTotal(leaf_points, applicable, total, index_of(total, applicable), pending)
    return result


async def group_sets(session: AsyncSession, period: Period, group: RankingGroup) -> dict[str, CriteriaSet]:
    """The criteria set of each unit type of the group's active units that the period assesses."""
    types = list(
        await session.scalars(
            select(Unit.unit_type).where(Unit.group_id == group.id, Unit.active.is_(True)).distinct()
        )
    )
    sets: dict[str, CriteriaSet] = {}
    for unit_type in types:
        try:
            sets[unit_type] = await criteria_for(session, period, unit_type)
        except ServiceError:
            continue  # a unit type the period does not assess
    return sets


def by_content(sets: dict[str, CriteriaSet]) -> list[tuple[CriteriaSet, list[str]]]:
    """Unit types grouped by identical criteria set (one query per set)."""
    grouped: dict[str, tuple[CriteriaSet, list[str]]] = {}
    for unit_type, cs in sets.items():
        grouped.setdefault(cs.content_hash(), (cs, []))[1].append(unit_type)
    return list(grouped.values())


async def group_totals(
    session: AsyncSession, period: Period, group: RankingGroup, basis: Basis
) -> tuple[dict[int, UnitTotal], dict[str, CriteriaSet]]:
    """Totals of the group's units on `basis`, and the criteria set of each assessed unit type."""
    sets = await group_sets(session, period, group)
    totals: dict[int, UnitTotal] = {}
    for cs, unit_types in by_content(sets):
        totals.update(await unit_totals(session, period, cs, unit_types, group.id, basis))
    return totals, sets


async def rank_period_sql(
    session: AsyncSession, period: Period, group: RankingGroup, basis: Basis
) -> list[RankRow]:
    """The same rows as `bot.services.ranking.rank_period` (units not submitted and units marked
    "not ranked" apart, with the same reasons), from SQL sums. Raises ValueError when the period is
    not `supported()`."""
    totals, sets = await group_totals(session, period, group, basis)
    if not supported(period, list(sets.values())):
        raise ValueError("this period needs the core path (tie-break or fine-grained maxima)")
    units = list(
        await session.scalars(
            select(Unit).where(Unit.group_id == group.id, Unit.active.is_(True)).order_by(Unit.code)
        )
    )
    assessments = {
        a.unit_id: a
        for a in await session.scalars(
            select(Assessment)
            .join(Unit, Unit.id == Assessment.unit_id)
            .where(Assessment.period_id == period.id, Unit.group_id == group.id)
        )
    }
    entries: list[RankEntry] = []
    for unit in units:
        if unit.unit_type not in sets:
            continue
        has_result, ranked, reason = standing(assessments.get(unit.id))
        if not has_result:
            entries.append(RankEntry(unit.id, unit.name, None, False, reason, code=unit.code))
            continue
        total = totals[unit.id]
        entries.append(
            RankEntry(
                unit.id,
                unit.name,
                total.index,
                ranked,
                reason,
                code=unit.code,
                survey_pending_max=total.survey_pending_max,
            )
        )
    return rank_group(entries, period_bands(period))


ItemLevel = Literal["field", "criterion", "leaf"]
_LEVEL_COLUMN = {"field": "field_code", "criterion": "criterion_code", "leaf": "code"}


LeafSums = dict[int, dict[str, tuple[int, int, int]]]  # unit → leaf → (points, N/A max, entered survey max)


async def _leaf_sums(
    session: AsyncSession,
    period: Period,
    rows: list[LeafRow],
    unit_types: Sequence[str],
    group_id: int,
    basis: Basis,
) -> LeafSums:
    """Per ranked unit (submitted, not flagged "not ranked") and per leaf: the SQL sums, in
    ten-thousandths. One GROUP BY (assessment, leaf) query; every ranked unit is in the result."""
    leaves = _leaf_cte(rows)
    cols = _columns(leaves, basis)
    scope = (
        Assessment.period_id == period.id,
        Assessment.status.in_(sorted(RANKABLE)),
        Assessment.not_ranked.is_(False),
        Unit.group_id == group_id,
        Unit.active.is_(True),
        Unit.unit_type.in_(list(unit_types)),
    )
    query = (
        select(
            Assessment.unit_id,
            leaves.c.code,
            func.sum(cols.points),
            func.sum(cols.na_max),
            func.sum(cols.survey_entered),
        )
        .select_from(ItemScore)
        .join(leaves, leaves.c.code == ItemScore.item_code)
        .join(Assessment, Assessment.id == ItemScore.assessment_id)
        .join(Unit, Unit.id == Assessment.unit_id)
        .where(*scope)
        .group_by(Assessment.unit_id, leaves.c.code)
    )
    sums: LeafSums = {
        int(unit_id): {}
        for unit_id in await session.scalars(
            select(Assessment.unit_id).join(Unit, Unit.id == Assessment.unit_id).where(*scope)
        )
    }
    for unit_id, code, summed, na, entered in await session.execute(query):
        sums[int(unit_id)][str(code)] = (int(summed or 0), int(na or 0), int(entered or 0))
    return sums


def _roll_up(
    rows: list[LeafRow], sums: LeafSums, level: ItemLevel
) -> dict[int, dict[str, tuple[Decimal, Decimal]]]:
    """The leaf sums added up per field, criterion or leaf: (points, applicable max) of each item,
    as `compute_sheet`'s FieldResult / CriterionResult / LeafResult."""
    column = _LEVEL_COLUMN[level]
    maxima = _maxima(rows, lambda row: getattr(row, column))
    result: dict[int, dict[str, tuple[Decimal, Decimal]]] = {}
    for unit_id, per_leaf in sums.items():
        added: dict[str, tuple[int, int, int]] = {}
        for row in rows:
            p, na, entered = per_leaf.get(row.code, (0, 0, 0))
            key = getattr(row, column)
            q, na2, entered2 = added.get(key, (0, 0, 0))
            added[key] = (p + q, na + na2, entered + entered2)
        result[unit_id] = {
            key: (_points(p), _points(_applicable(maxima[key], na, entered)))
            for key, (p, na, entered) in added.items()
        }
    return result


async def item_totals(
    session: AsyncSession,
    period: Period,
    cs: CriteriaSet,
    unit_types: Sequence[str],
    group_id: int,
    basis: Basis,
    level: ItemLevel,
) -> dict[int, dict[str, tuple[Decimal, Decimal]]]:
    """Per ranked unit and per item of `level`: (points, applicable max)."""
    rows = _leaves(cs, bool((period.settings or {}).get("survey", True)))
    return _roll_up(rows, await _leaf_sums(session, period, rows, unit_types, group_id, basis), level)


async def item_averages(
    session: AsyncSession, period: Period, group: RankingGroup, basis: Basis
) -> dict[str, Decimal]:
    """The group averages of every field, criterion and sub-criterion over the ranked units, as
    `gaps.group_averages` of the core's `gaps.item_indexes`, from SQL sums."""
    sets = await group_sets(session, period, group)
    include_survey = bool((period.settings or {}).get("survey", True))
    indexes: dict[int, dict[str, Decimal]] = {}
    for cs, types in by_content(sets):
        rows = _leaves(cs, include_survey)
        sums = await _leaf_sums(session, period, rows, types, group.id, basis)
        for level in ("field", "criterion", "leaf"):
            for unit_id, per_item in _roll_up(rows, sums, level).items():
                unit = indexes.setdefault(unit_id, {})
                for code, (points, applicable) in per_item.items():
                    if applicable > 0:
                        unit[code] = index_of(points, applicable)
    return group_averages(indexes.values())
