"""The SQL aggregate equals the pure core (SPEC §4): generated units × leaves × random scores, N/A
claims and decisions, appraisal rounds, bonus/penalty with caps, survey on/off, every basis, on
SQLite and PostgreSQL.

Equality is checked three times: the ranking rows (`rank_period_sql` == `rank_period`, which builds
every sheet with `compute_sheet` and ranks with `rank_group`); each unit's totals (points, applicable
max, survey points pending) and each ranked unit's field, criterion and sub-criterion totals against
`compute_sheet` directly; and the group averages of the gap analysis (`item_averages` ==
`gaps.group_averages` of the ranked units' sheets).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.criteria import shipped_path
from bot.db.models import (
    AppraisalStatus,
    Assessment,
    AssessmentStatus,
    ItemScore,
    Period,
    RankingGroup,
    Unit,
)
from bot.scoring.gaps import group_averages, item_indexes
from bot.scoring.loader import load_criteria_set
from bot.scoring.model import CriteriaSet
from bot.scoring.sheet import Basis
from bot.services.actor import Actor
from bot.services.criteria import store_criteria_set
from bot.services.periods import create_period
from bot.services.ranking import rank_period, sheet_of, standing
from bot.services.ranking_sql import group_totals, item_averages, item_totals, rank_period_sql, supported
from bot.services.units import UnitRow, upsert_units

SYSTEM = Actor.system("test")
MAX_UNITS = 8
SETS = {"so": load_criteria_set(shipped_path("2025-so")), "xa": load_criteria_set(shipped_path("2025-xa"))}
LEAVES = {t: [leaf for _f, _c, leaf in cs.leaves()] for t, cs in SETS.items()}
STATUSES = [s.value for s in AssessmentStatus if s is not AssessmentStatus.NOT_STARTED]
DECISIONS = [None, *[s.value for s in AppraisalStatus]]


@dataclass
class ItemPlan:
    leaf: int  # index into the unit type's leaves
    self_share: int | None  # ten-thousandths of max × 1.2 (values over max test the clamp)
    a1_share: int | None
    final_share: int | None
    na_claimed: bool
    a1_status: str | None
    final_status: str | None


@dataclass
class UnitPlan:
    unit_type: str
    assessed: bool
    status: str
    not_ranked: bool
    bonus: int
    penalty: int
    items: list[ItemPlan]


shares = st.one_of(st.none(), st.integers(0, 12_000))
items = st.builds(
    ItemPlan,
    leaf=st.integers(0, 200),
    self_share=shares,
    a1_share=shares,
    final_share=st.one_of(st.none(), st.none(), st.integers(0, 12_000)),
    na_claimed=st.booleans(),
    a1_status=st.sampled_from(DECISIONS),
    final_status=st.sampled_from([None, None, *DECISIONS]),
)
units = st.builds(
    UnitPlan,
    unit_type=st.sampled_from(["so", "xa"]),
    assessed=st.booleans() | st.just(True),
    status=st.sampled_from(STATUSES),
    not_ranked=st.booleans(),
    bonus=st.integers(0, 30_000),
    penalty=st.integers(0, 30_000),
    items=st.lists(items, max_size=60),
)
provinces = st.lists(units, min_size=1, max_size=MAX_UNITS)
period_settings = st.fixed_dictionaries(
    {
        "survey": st.booleans(),
        "bonus_cap": st.sampled_from([None, "1", "2.5"]),
        "penalty_cap": st.sampled_from([None, "0.5", "3"]),
    }
)


async def _setup(session: AsyncSession) -> None:
    rows = [
        UnitRow(f"U{n:02d}", f"Đơn vị số {n}", "so" if n % 2 else "xa", "G", "Khối") for n in range(MAX_UNITS)
    ]
    await upsert_units(session, SYSTEM, rows)
    codes = {}
    for unit_type, cs in SETS.items():
        codes[unit_type] = (await store_criteria_set(session, SYSTEM, cs)).code
    await create_period(session, SYSTEM, 2025, codes)
    await session.commit()


def _points(share: int | None, cs_max: Decimal) -> Decimal | None:
    if share is None:
        return None
    return (cs_max * Decimal(share) * Decimal("1.2") / Decimal(10_000)).quantize(Decimal("0.0001"))


async def _store(session: AsyncSession, plan: list[UnitPlan], config: dict[str, object]) -> Period:
    await session.execute(delete(ItemScore))
    await session.execute(delete(Assessment))
    period = await session.scalar(select(Period).where(Period.year == 2025))
    assert period is not None
    period.settings = {**(period.settings or {}), **config}
    all_units = list(await session.scalars(select(Unit).order_by(Unit.code)))
    for unit in all_units:
        unit.active = False
    for unit, unit_plan in zip(all_units, plan, strict=False):
        unit.active = True
        unit.unit_type = unit_plan.unit_type
        if not unit_plan.assessed:
            continue
        assessment = Assessment(
            period_id=period.id,
            unit_id=unit.id,
            status=unit_plan.status,
            not_ranked=unit_plan.not_ranked,
            not_ranked_reason="thiếu trung thực" if unit_plan.not_ranked else None,
            bonus=Decimal(unit_plan.bonus) / 10_000,
            penalty=Decimal(unit_plan.penalty) / 10_000,
        )
        session.add(assessment)
        await session.flush()
        leaves = LEAVES[unit_plan.unit_type]
        seen: set[str] = set()
        for item in unit_plan.items:
            leaf = leaves[item.leaf % len(leaves)]
            if leaf.code in seen:
                continue
            seen.add(leaf.code)
            session.add(
                ItemScore(
                    assessment_id=assessment.id,
                    item_code=leaf.code,
                    self_points=_points(item.self_share, leaf.max_points),
                    appraisal1_points=_points(item.a1_share, leaf.max_points),
                    final_points=_points(item.final_share, leaf.max_points),
                    na_claimed=item.na_claimed,
                    appraisal1_status=item.a1_status,
                    final_status=item.final_status,
                )
            )
    await session.commit()
    return period


@pytest.mark.parametrize("basis", list(Basis))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=provinces, config=period_settings)
async def test_sql_ranking_equals_core(
    session: AsyncSession, basis: Basis, plan: list[UnitPlan], config: dict[str, object]
) -> None:
    if await session.scalar(select(Period.id)) is None:
        await _setup(session)
    period = await _store(session, plan, config)
    group = await session.scalar(select(RankingGroup).where(RankingGroup.code == "G"))
    assert group is not None
    assert supported(period, list(SETS.values()))

    core = await rank_period(session, period, group, basis)
    sql = await rank_period_sql(session, period, group, basis)
    assert sql == core

    totals, _sets = await group_totals(session, period, group, basis)
    levels = {}
    for level in ("field", "criterion", "leaf"):
        per_unit: dict[int, dict[str, tuple[Decimal, Decimal]]] = {}
        for unit_type, cs in SETS.items():
            per_unit.update(await item_totals(session, period, cs, [unit_type], group.id, basis, level))
        levels[level] = per_unit
    ranked_sheets = []
    for assessment in await session.scalars(select(Assessment)):
        unit = await session.get(Unit, assessment.unit_id)
        assert unit is not None
        if not unit.active:
            continue
        items = list(await session.scalars(select(ItemScore).where(ItemScore.assessment_id == assessment.id)))
        sheet = sheet_of(SETS[unit.unit_type], period, assessment, items, basis)
        total = totals[unit.id]
        assert (total.points, total.applicable_max, total.index, total.survey_pending_max) == (
            sheet.points,
            sheet.applicable_max,
            sheet.index,
            sheet.survey_pending_max,
        )
        if not standing(assessment)[1]:
            assert all(unit.id not in per_unit for per_unit in levels.values())  # out of the averages
            continue
        ranked_sheets.append(sheet)
        expected = {
            "field": {f.code: (f.points, f.applicable_max) for f in sheet.fields},
            "criterion": {c.code: (c.points, c.applicable_max) for f in sheet.fields for c in f.criteria},
            "leaf": {
                code: (leaf.points, D0 if leaf.na or leaf.pending else leaf.max_points)
                for code, leaf in sheet.leaves.items()
            },
        }
        for level, per_unit in levels.items():
            assert per_unit[unit.id] == expected[level], level
    core_averages = group_averages(item_indexes(s) for s in ranked_sheets)
    assert await item_averages(session, period, group, basis) == core_averages


D0 = Decimal(0)


async def test_tie_break_is_left_to_the_core(session: AsyncSession) -> None:
    await _setup(session)
    period = await session.scalar(select(Period).where(Period.year == 2025))
    assert period is not None
    period.settings = {**(period.settings or {}), "tie_break": "1"}
    cs: list[CriteriaSet] = list(SETS.values())
    assert not supported(period, cs)
    group = await session.scalar(select(RankingGroup).where(RankingGroup.code == "G"))
    assert group is not None
    with pytest.raises(ValueError, match="core path"):
        await rank_period_sql(session, period, group, Basis.APPRAISED)
