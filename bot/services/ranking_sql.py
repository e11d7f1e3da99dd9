"""Per-unit totals by SQL aggregation, for rankings of large groups (3,300 communes × 50 items).

The pure core (`compute_sheet`) builds every unit's whole sheet in Python: per field, per criterion,
per leaf. A ranking needs only two numbers per unit: the points achieved and the applicable maximum.
Points are stored as integer ten-thousandths (`bot.db.types.Points`), so `SUM` over item_scores is
exact on SQLite and PostgreSQL; this module sums them with GROUP BY and hands the two sums to the
core's own `index_of`, `classify` and `rank_group`. The per-leaf rules (which value counts on each
basis, when N/A counts, clamping to [0, leaf max]) are the core's `_value_and_na`, written as SQL
CASE expressions; tests/services/test_ranking_sql.py proves on generated data (hypothesis, both
databases) that the result equals `rank_period`, the core path.

Simple cases only: `supported()` is False when the period names a tie-break field (that needs
per-field sums) or a leaf max has more than four decimals; callers then use the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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
from bot.scoring.model import CriteriaSet, SurveyRule
from bot.scoring.ranking import RankEntry, RankRow, rank_group
from bot.scoring.sheet import Basis, index_of
from bot.services.errors import ServiceError
from bot.services.periods import criteria_for
from bot.services.ranking import RANKABLE, period_bands

ZERO = Decimal(0)

#: Groups with at least this many active units are ranked by SQL aggregation when `supported()`;
#: below it the core path is fast enough (about 2 ms per 50-item unit) and gives whole sheets.
SQL_MIN_UNITS = 200


@dataclass(frozen=True)
class UnitTotal:
    """Totals of one assessment: leaf points (before bonus/penalty) and the applicable maximum."""

    leaf_points: Decimal
    applicable_max: Decimal
    points: Decimal  # with the capped bonus and penalty, never below 0 (SheetResult.points)
    index: Decimal


def _scaled(value: Decimal) -> int | None:
    """Leaf max in ten-thousandths, or None when it cannot be stored exactly that way."""
    scaled = value * POINTS_SCALE
    return int(scaled) if scaled == scaled.to_integral_value() else None


LeafRow = tuple[str, int, bool, bool, str]  # code, max (ten-thousandths), allow_na, survey, field


def _leaves(cs: CriteriaSet, include_survey: bool) -> list[LeafRow]:
    rows: list[LeafRow] = []
    for area, _criterion, leaf in cs.leaves():
        survey = isinstance(leaf.rule, SurveyRule)
        if survey and not include_survey:
            continue
        scaled = _scaled(leaf.max_points)
        if scaled is None:
            raise ValueError(f"leaf {leaf.code}: max {leaf.max_points} has more than 4 decimals")
        rows.append((leaf.code, scaled, leaf.allow_na, survey, area.code))
    return rows


def supported(period: Period, sets: Sequence[CriteriaSet]) -> bool:
    """True when the SQL path computes exactly what the core computes for this period."""
    if isinstance((period.settings or {}).get("tie_break"), str):
        return False
    return all(_scaled(leaf.max_points) is not None for cs in sets for _f, _c, leaf in cs.leaves())


def _leaf_cte(rows: list[LeafRow]) -> Any:
    selects = [
        select(
            literal(code, String).label("code"),
            literal(max_points, BigInteger).label("max_points"),
            literal(int(allow_na), Integer).label("allow_na"),
            literal(int(survey), Integer).label("survey"),
            literal(field_code, String).label("field_code"),
        )
        for code, max_points, allow_na, survey, field_code in rows
    ]
    # MATERIALIZED: PostgreSQL scans the 50-row leaf table once instead of inlining the UNION into
    # the join (0.12 s against 0.22 s for 165,000 items in bench/ranking.py). Like every query here
    # it needs table statistics: on a freshly bulk-loaded database without ANALYZE the planner
    # picks nested loops and the same query takes 45 s.
    return union_all(*selects).cte("leaf_max").prefix_with("MATERIALIZED", dialect="postgresql")


def _int(column: Any) -> ColumnElement[int]:
    """The raw ten-thousandths of a Points column (no Decimal conversion inside SQL)."""
    return type_coerce(column, BigInteger)


def _leaf_points(leaves: Any, basis: Basis) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """(points, max if N/A else 0) of one item row, as the core's `_value_and_na` + clamp."""
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
    latest = func.coalesce(final, a1, self_p)
    is_survey = leaves.c.survey == 1
    claimed = ItemScore.na_claimed.is_(True)
    value: ColumnElement[Any]
    na: ColumnElement[bool]
    if basis is Basis.SELF:
        value = case((is_survey, latest), else_=self_p)
        na = claimed
    elif basis is Basis.APPRAISED:
        value = latest
        na = or_(decision == 1, and_(claimed, decision.is_(None)))
    else:
        value = case((is_survey, latest), else_=func.coalesce(final, a1))
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
    na_max = case((na, limit), else_=0)
    return points, na_max


def _cap(amount: Decimal, cap: Decimal | None) -> Decimal:
    return amount if cap is None else min(amount, cap)


def _dec(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


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
    total_max = sum((r[1] for r in rows), 0)
    leaves = _leaf_cte(rows)
    points, na_max = _leaf_points(leaves, basis)
    sums = (
        select(
            ItemScore.assessment_id.label("assessment_id"),
            func.sum(points).label("points"),
            func.sum(na_max).label("na_max"),
        )
        .join(leaves, leaves.c.code == ItemScore.item_code)
        .join(Assessment, Assessment.id == ItemScore.assessment_id)
        .join(Unit, Unit.id == Assessment.unit_id)
        .where(
            Assessment.period_id == period.id,
            Unit.group_id == group_id,
            Unit.active.is_(True),
            Unit.unit_type.in_(list(unit_types)),
        )
        .group_by(ItemScore.assessment_id)
        .subquery()
    )
    query = (
        select(Assessment.unit_id, Assessment.bonus, Assessment.penalty, sums.c.points, sums.c.na_max)
        .join(Unit, Unit.id == Assessment.unit_id)
        .outerjoin(sums, sums.c.assessment_id == Assessment.id)
        .where(
            Assessment.period_id == period.id,
            Unit.group_id == group_id,
            Unit.active.is_(True),
            Unit.unit_type.in_(list(unit_types)),
        )
    )
    bonus_cap, penalty_cap = _dec(settings.get("bonus_cap")), _dec(settings.get("penalty_cap"))
    result: dict[int, UnitTotal] = {}
    for unit_id, bonus, penalty, summed, na in await session.execute(query):
        leaf_points = Decimal(int(summed or 0)).scaleb(-4)
        applicable = Decimal(total_max - int(na or 0)).scaleb(-4)
        total = max(ZERO, leaf_points + _cap(bonus or ZERO, bonus_cap) - _cap(penalty or ZERO, penalty_cap))
        result[unit_id] = UnitTotal(leaf_points, applicable, total, index_of(total, applicable))
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
        assessment = assessments.get(unit.id)
        if assessment is None:
            entries.append(RankEntry(unit.id, unit.name, ZERO, False, "not_started", code=unit.code))
            continue
        total = totals[unit.id]
        if assessment.not_ranked:
            suffix = f": {assessment.not_ranked_reason}" if assessment.not_ranked_reason else ""
            ranked, reason = False, "not_ranked" + suffix
        elif assessment.status not in RANKABLE:
            ranked, reason = False, assessment.status
        else:
            ranked, reason = True, ""
        entries.append(RankEntry(unit.id, unit.name, total.index, ranked, reason, code=unit.code))
    return rank_group(entries, period_bands(period))


@dataclass(frozen=True)
class FieldTotal:
    points: Decimal
    applicable_max: Decimal
    index: Decimal


async def field_totals(
    session: AsyncSession,
    period: Period,
    cs: CriteriaSet,
    unit_types: Sequence[str],
    group_id: int,
    basis: Basis,
    statuses: Sequence[str],
) -> dict[int, dict[str, FieldTotal]]:
    """Per unit (of the given assessment statuses) and per field: points, applicable max and index,
    as `compute_sheet`'s FieldResult. One GROUP BY (assessment, field) query; for group averages."""
    include_survey = bool((period.settings or {}).get("survey", True))
    rows = _leaves(cs, include_survey)
    field_max: dict[str, int] = {}
    for row in rows:
        field_max[row[4]] = field_max.get(row[4], 0) + row[1]
    leaves = _leaf_cte(rows)
    points, na_max = _leaf_points(leaves, basis)
    query = (
        select(
            Assessment.unit_id,
            leaves.c.field_code,
            func.sum(points).label("points"),
            func.sum(na_max).label("na_max"),
        )
        .select_from(ItemScore)
        .join(leaves, leaves.c.code == ItemScore.item_code)
        .join(Assessment, Assessment.id == ItemScore.assessment_id)
        .join(Unit, Unit.id == Assessment.unit_id)
        .where(
            Assessment.period_id == period.id,
            Assessment.status.in_(list(statuses)),
            Unit.group_id == group_id,
            Unit.active.is_(True),
            Unit.unit_type.in_(list(unit_types)),
        )
        .group_by(Assessment.unit_id, leaves.c.field_code)
    )
    sums: dict[int, dict[str, tuple[int, int]]] = {}
    for unit_id, field_code, summed, na in await session.execute(query):
        sums.setdefault(int(unit_id), {})[str(field_code)] = (int(summed or 0), int(na or 0))
    everyone = await session.scalars(
        select(Assessment.unit_id)
        .join(Unit, Unit.id == Assessment.unit_id)
        .where(
            Assessment.period_id == period.id,
            Assessment.status.in_(list(statuses)),
            Unit.group_id == group_id,
            Unit.active.is_(True),
            Unit.unit_type.in_(list(unit_types)),
        )
        .order_by(Unit.code)
    )
    result: dict[int, dict[str, FieldTotal]] = {}  # in unit code order, as the core lists sheets
    for unit_id in everyone:
        per_field: dict[str, FieldTotal] = {}
        for field_code, maximum in field_max.items():
            summed, na = sums.get(unit_id, {}).get(field_code, (0, 0))
            field_points = Decimal(summed).scaleb(-4)
            applicable = Decimal(maximum - na).scaleb(-4)
            per_field[field_code] = FieldTotal(field_points, applicable, index_of(field_points, applicable))
        result[unit_id] = per_field
    return result
