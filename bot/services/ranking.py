"""Rankings from the database through the one scoring core (SPEC §4).

Each unit's sheet is computed by `compute_sheet` (through `sheet_of`) from its item scores, so the
ranking a leader sees is the number an officer sees on the review screen. The SQL-aggregate path
for large groups (`ranking_sql.py`) is proven equal to this by tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    AppraisalStatus,
    Assessment,
    AssessmentStatus,
    HistoryResult,
    ItemScore,
    Period,
    PeriodStatus,
    RankingGroup,
    Unit,
)
from bot.scoring.bands import DEFAULT_BANDS, ClassBand, bands_from_config
from bot.scoring.model import CriteriaSet
from bot.scoring.ranking import RankEntry, RankRow, rank_group
from bot.scoring.sheet import Basis, LeafScore, SheetResult, compute_sheet
from bot.services.errors import ServiceError
from bot.services.periods import criteria_for
from bot.services.units import get_group

RANKABLE = {
    AssessmentStatus.SUBMITTED.value,
    AssessmentStatus.APPRAISED.value,
    AssessmentStatus.FINALIZED.value,
}
NA_DECISIONS = {AppraisalStatus.NA_ACCEPTED.value: True, AppraisalStatus.NA_REFUSED.value: False}


def leaf_score(item: ItemScore) -> LeafScore:
    """The core's view of a stored item. The latest N/A decision wins (final over appraisal 1)."""
    decision = NA_DECISIONS.get(item.final_status or "", NA_DECISIONS.get(item.appraisal1_status or ""))
    return LeafScore(
        self_points=item.self_points,
        appraisal1=item.appraisal1_points,
        final=item.final_points,
        na_claimed=item.na_claimed,
        na_accepted=decision,
    )


def period_bands(period: Period | None) -> tuple[ClassBand, ...]:
    config = (period.settings or {}).get("bands") if period is not None else None
    return bands_from_config(config) if config else DEFAULT_BANDS


def _dec(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def sheet_of(
    cs: CriteriaSet, period: Period, assessment: Assessment, items: Iterable[ItemScore], basis: Basis
) -> SheetResult:
    """One unit's totals with the period's survey switch and bonus/penalty caps."""
    settings = period.settings or {}
    return compute_sheet(
        cs,
        {item.item_code: leaf_score(item) for item in items},
        basis,
        bonus=assessment.bonus,
        penalty=assessment.penalty,
        bonus_cap=_dec(settings.get("bonus_cap")),
        penalty_cap=_dec(settings.get("penalty_cap")),
        include_survey=bool(settings.get("survey", True)),
    )


def standing(assessment: Assessment | None) -> tuple[bool, bool, str]:
    """(has a result, ranked, reason) of a unit's sheet. A result needs a submitted sheet; a unit
    flagged "not ranked" (seed 003) keeps its result but takes no rank. Reasons: "not_started",
    "draft", "returned", "not_ranked[: why]"."""
    if assessment is None:
        return False, False, AssessmentStatus.NOT_STARTED.value
    has_result = assessment.status in RANKABLE
    if assessment.not_ranked:
        why = assessment.not_ranked_reason
        return has_result, False, "not_ranked" + (f": {why}" if why else "")
    if not has_result:
        return False, False, assessment.status
    return True, True, ""


def default_basis(period: Period) -> Basis:
    """What a ranking shows by default: final results once approved, else the latest appraised
    values (provisional)."""
    if period.status in (PeriodStatus.APPROVED.value, PeriodStatus.PUBLISHED.value):
        return Basis.FINAL
    return Basis.APPRAISED


async def rank_period(
    session: AsyncSession, period: Period, group: RankingGroup, basis: Basis
) -> list[RankRow]:
    """Every active unit of the group. Units marked "not ranked" are listed apart (rank None, no
    class) with their index and the reason; units that have not submitted are listed apart without
    an index."""
    units = list(
        await session.scalars(
            select(Unit).where(Unit.group_id == group.id, Unit.active.is_(True)).order_by(Unit.code)
        )
    )
    assessments = {
        a.unit_id: a
        for a in await session.scalars(
            select(Assessment).where(
                Assessment.period_id == period.id, Assessment.unit_id.in_([u.id for u in units])
            )
        )
    }
    items: dict[int, list[ItemScore]] = {}
    for item in await session.scalars(
        select(ItemScore).where(ItemScore.assessment_id.in_([a.id for a in assessments.values()]))
    ):
        items.setdefault(item.assessment_id, []).append(item)
    sets: dict[str, CriteriaSet] = {}
    tie_field = (period.settings or {}).get("tie_break")
    entries: list[RankEntry] = []
    for unit in units:
        if unit.unit_type not in sets:
            try:
                sets[unit.unit_type] = await criteria_for(session, period, unit.unit_type)
            except ServiceError:
                continue  # a unit type the period does not assess
        assessment = assessments.get(unit.id)
        has_result, ranked, reason = standing(assessment)
        if assessment is None or not has_result:
            entries.append(RankEntry(unit.id, unit.name, None, False, reason, code=unit.code))
            continue
        sheet = sheet_of(sets[unit.unit_type], period, assessment, items.get(assessment.id, []), basis)
        tie_break = None
        if isinstance(tie_field, str):
            field_result = sheet.field_by_code(tie_field)
            tie_break = field_result.points if field_result else None
        entries.append(
            RankEntry(
                unit.id,
                unit.name,
                sheet.index,
                ranked,
                reason,
                tie_break=tie_break,
                code=unit.code,
                survey_pending_max=sheet.survey_pending_max,
            )
        )
    return rank_group(entries, period_bands(period), use_tie_break=bool(tie_field))


async def rank_history(session: AsyncSession, year: int, group: RankingGroup) -> list[RankRow]:
    rows = await session.execute(
        select(HistoryResult, Unit)
        .join(Unit, Unit.id == HistoryResult.unit_id)
        .where(HistoryResult.year == year, HistoryResult.group_id == group.id)
    )
    period = await session.scalar(select(Period).where(Period.year == year))
    entries = [RankEntry(u.id, u.name, h.index, code=u.code) for h, u in rows]
    return rank_group(entries, period_bands(period))


@dataclass(frozen=True)
class Ranking:
    year: int
    group_code: str
    group_name: str
    source: str  # "period" (computed live) or "history" (imported results)
    basis: str | None
    provisional: bool
    rows: list[RankRow]


async def ranking(session: AsyncSession, year: int, group_code: str, basis: Basis | None = None) -> Ranking:
    """The ranking of a group for a year: live from the period when one exists and has sheets,
    else from imported history."""
    group = await get_group(session, group_code)
    period = await session.scalar(select(Period).where(Period.year == year))
    if period is not None and period.status != PeriodStatus.DRAFT.value:
        chosen = basis or default_basis(period)
        rows = await rank_period(session, period, group, chosen)
        provisional = period.status != PeriodStatus.PUBLISHED.value or chosen != Basis.FINAL
        return Ranking(year, group.code, group.name, "period", chosen.value, provisional, rows)
    rows = await rank_history(session, year, group)
    if not rows:
        raise ServiceError("no_period", year=year)
    return Ranking(year, group.code, group.name, "history", None, False, rows)
