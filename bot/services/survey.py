"""Survey results (điều tra xã hội học, seed 003): the secretariat enters each unit's points for the
criteria set's `survey` items, in chat or from a CSV/XLSX file (`cchc-bot survey import`).

Survey points go into the appraisal-1 and final columns, so they enter the index like appraised
points (SPEC §4). Entry is possible from the opening of the period until approval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AppraisalStatus, Assessment, ItemScore, Period, PeriodStatus, RoleName, Unit
from bot.scoring.model import CriteriaSet, Leaf, SurveyRule
from bot.scoring.numbers import InputError
from bot.scoring.rules import Answer, score_survey
from bot.services import audit
from bot.services.actor import Actor, require
from bot.services.errors import ServiceError
from bot.services.periods import criteria_for, get_or_create_assessment, get_period
from bot.services.stages import FROZEN, now_utc
from bot.services.tabular import raise_row_errors, read_table
from bot.services.tx import use_case
from bot.services.units import find_units

COLUMNS = {
    "don_vi": "unit",
    "ma_don_vi": "unit",
    "unit_code": "unit",
    "ma_tieu_chi": "item",
    "tieu_chi": "item",
    "item_code": "item",
    "code": "item",
    "diem": "points",
    "score": "points",
}


def survey_leaves(cs: CriteriaSet) -> list[Leaf]:
    return [leaf for _, _, leaf in cs.leaves() if isinstance(leaf.rule, SurveyRule)]


def _check_period(period: Period) -> None:
    if period.status in FROZEN or period.status == PeriodStatus.DRAFT.value:
        raise ServiceError("period_locked", year=period.year, status=period.status)
    if not (period.settings or {}).get("survey", True):
        raise ServiceError("no_survey", year=period.year)


@dataclass(frozen=True)
class SurveyUnit:
    unit: Unit
    items: list[tuple[Leaf, Decimal | None]] = field(default_factory=list)


async def survey_units(session: AsyncSession, actor: Actor, year: int) -> list[SurveyUnit]:
    """Active units whose criteria set has survey items, with the points entered so far."""
    require(actor, RoleName.SECRETARIAT)
    period = await get_period(session, year)
    from bot.services.units import list_units

    units = list(await list_units(session))
    leaves_of: dict[str, list[Leaf]] = {}
    for unit_type in {u.unit_type for u in units}:
        try:
            leaves_of[unit_type] = survey_leaves(await criteria_for(session, period, unit_type))
        except ServiceError:
            leaves_of[unit_type] = []
    codes = {leaf.code for leaves in leaves_of.values() for leaf in leaves}
    entered: dict[int, dict[str, Decimal | None]] = {}
    rows = await session.execute(  # one query for the whole province, not one per unit
        select(Assessment.unit_id, ItemScore.item_code, ItemScore.final_points)
        .join(Assessment, Assessment.id == ItemScore.assessment_id)
        .where(Assessment.period_id == period.id, ItemScore.item_code.in_(codes))
    )
    for unit_id, code, points in rows:
        entered.setdefault(unit_id, {})[code] = points
    result: list[SurveyUnit] = []
    for unit in units:
        leaves = leaves_of[unit.unit_type]
        if leaves:
            values = entered.get(unit.id, {})
            result.append(SurveyUnit(unit, [(leaf, values.get(leaf.code)) for leaf in leaves]))
    return result


async def _store(
    session: AsyncSession, actor: Actor, period: Period, unit: Unit, leaf: Leaf, answer: Answer, at: datetime
) -> None:
    assessment = await get_or_create_assessment(session, period.id, unit.id)
    item = await session.scalar(
        select(ItemScore).where(ItemScore.assessment_id == assessment.id, ItemScore.item_code == leaf.code)
    )
    if item is None:
        item = ItemScore(assessment_id=assessment.id, item_code=leaf.code, na_claimed=False)
        session.add(item)
        await session.flush()
    before = {"points": item.final_points}
    for prefix in ("appraisal1", "final"):
        setattr(item, f"{prefix}_points", answer.points)
        setattr(item, f"{prefix}_status", AppraisalStatus.ACCEPTED.value)
        setattr(item, f"{prefix}_by", actor.person_id)
        setattr(item, f"{prefix}_at", at)
    item.updated_by = actor.person_id
    await audit.record(
        session,
        actor,
        "survey.set",
        "item_score",
        f"{assessment.id}:{leaf.code}",
        before,
        {"points": answer.points},
    )


async def _leaf(session: AsyncSession, period: Period, unit: Unit, code: str) -> Leaf:
    cs = await criteria_for(session, period, unit.unit_type)
    leaf = cs.leaf(code)
    if leaf is None or not isinstance(leaf.rule, SurveyRule):
        raise ServiceError("not_survey", item=code)
    return leaf


@use_case
async def set_survey_points(
    session: AsyncSession,
    actor: Actor,
    year: int,
    unit_id: int,
    code: str,
    text: str,
    *,
    now: datetime | None = None,
) -> Answer:
    """Enter one unit's points for one survey item ("8,5"); raises InputError for a bad value."""
    require(actor, RoleName.SECRETARIAT)
    period = await get_period(session, year)
    _check_period(period)
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise ServiceError("forbidden")
    leaf = await _leaf(session, period, unit, code)
    answer = score_survey(leaf, text)
    await _store(session, actor, period, unit, leaf, answer, now_utc(now))
    await session.commit()
    return answer


@dataclass(frozen=True)
class SurveyImportResult:
    year: int
    imported: int


async def _unit_of(session: AsyncSession, text: str) -> Unit | None:
    unit = await session.scalar(select(Unit).where(Unit.code == text))
    if unit is not None:
        return unit
    found = await find_units(session, text, limit=2)
    return found[0] if len(found) == 1 else None


@use_case
async def import_survey(
    session: AsyncSession, actor: Actor, year: int, path: Path, *, now: datetime | None = None
) -> SurveyImportResult:
    """CSV/XLSX with columns unit (code or name), item (survey item code), points; all-or-nothing."""
    require(actor, RoleName.SECRETARIAT)
    period = await get_period(session, year)
    _check_period(period)
    rows = read_table(path, COLUMNS)
    errors: list[str] = []
    planned: list[tuple[Unit, Leaf, Answer]] = []
    seen: dict[tuple[int, str], int] = {}
    for row in rows:
        unit_text, code, points = row.get("unit"), row.get("item"), row.get("points")
        if not unit_text or not code or not points:
            errors.append(f"row {row.number}: unit, item and points are required")
            continue
        unit = await _unit_of(session, unit_text)
        if unit is None:
            errors.append(f"row {row.number}: unknown unit {unit_text!r}")
            continue
        try:
            leaf = await _leaf(session, period, unit, code)
            answer = score_survey(leaf, points)
        except ServiceError:
            errors.append(f"row {row.number}: {code!r} is not a survey item of {unit.code}")
            continue
        except InputError as exc:
            errors.append(f"row {row.number}: {points!r}: {exc}")
            continue
        key = (unit.id, leaf.code)
        if key in seen:
            errors.append(f"row {row.number}: {unit.code} {code} also on row {seen[key]}")
            continue
        seen[key] = row.number
        planned.append((unit, leaf, answer))
    if not rows:
        errors.append("no data rows")
    raise_row_errors(path.name, errors)
    at = now_utc(now)
    for unit, leaf, answer in planned:
        await _store(session, actor, period, unit, leaf, answer, at)
    await session.commit()
    return SurveyImportResult(year, len(planned))
