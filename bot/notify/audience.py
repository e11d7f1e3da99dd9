"""Who a notification goes to: the queries shared by reminders, digests and broadcasts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    AgencyAssignment,
    AppraisalStatus,
    Assessment,
    AssessmentStatus,
    CriteriaSetRow,
    ItemScore,
    Period,
    PeriodCriteria,
    Person,
    Role,
    RoleName,
    Unit,
)
from bot.services.agencies import leaf_agencies
from bot.services.criteria import criteria_model

NOT_SUBMITTED = (
    AssessmentStatus.NOT_STARTED.value,
    AssessmentStatus.DRAFT.value,
    AssessmentStatus.RETURNED.value,
)


async def appraisers_of(session: AsyncSession, agency_ids: Iterable[int]) -> list[tuple[Person, int]]:
    """(person, agency id) for active appraisers of those agencies."""
    ids = sorted(set(agency_ids))
    if not ids:
        return []
    rows = await session.execute(
        select(Person, Role.agency_id)
        .join(Role, Role.person_id == Person.id)
        .where(Role.agency_id.in_(ids), Role.role == RoleName.APPRAISER.value, Person.active.is_(True))
        .order_by(Role.agency_id, Person.id)
    )
    return [(p, a) for p, a in rows if a is not None]


async def units_not_submitted(session: AsyncSession, period: Period) -> list[Unit]:
    rows = await session.scalars(
        select(Unit)
        .join(Assessment, Assessment.unit_id == Unit.id)
        .where(
            Assessment.period_id == period.id,
            Assessment.status.in_(NOT_SUBMITTED),
            Unit.active.is_(True),
        )
        .order_by(Unit.code)
    )
    return list(rows)


async def units_with_open_requests(session: AsyncSession, period: Period) -> dict[int, int]:
    """unit id → number of supplement requests the unit has not answered yet."""
    rows = await session.execute(
        select(Assessment.unit_id, ItemScore.id)
        .join(ItemScore, ItemScore.assessment_id == Assessment.id)
        .join(Unit, Unit.id == Assessment.unit_id)
        .where(
            Assessment.period_id == period.id,
            ItemScore.appraisal1_status == AppraisalStatus.SUPPLEMENT_REQUESTED.value,
            ItemScore.unit_reply_at.is_(None),
            Unit.active.is_(True),
        )
    )
    counts: dict[int, int] = defaultdict(int)
    for unit_id, _ in rows:
        counts[unit_id] += 1
    return dict(counts)


async def pending_counts_by_agency(session: AsyncSession, period: Period) -> dict[int, dict[int, int]]:
    """agency id → {unit id → items waiting for that agency}: appraisal 1 of submitted sheets, and
    answered supplement requests waiting for the final appraisal."""
    assignments = list(
        await session.scalars(select(AgencyAssignment).where(AgencyAssignment.period_id == period.id))
    )
    if not assignments:
        return {}
    # leaf code → agency, per unit type
    agencies: dict[str, dict[str, int | None]] = {}
    sets = await session.execute(
        select(PeriodCriteria.unit_type, CriteriaSetRow)
        .join(CriteriaSetRow, CriteriaSetRow.id == PeriodCriteria.criteria_set_id)
        .where(PeriodCriteria.period_id == period.id)
    )
    for unit_type, row in sets:
        cs = criteria_model(row)
        agencies[unit_type] = leaf_agencies(cs, assignments)
    rows = await session.execute(
        select(Assessment.unit_id, Assessment.status, Unit.unit_type, ItemScore)
        .join(Unit, Unit.id == Assessment.unit_id)
        .join(ItemScore, ItemScore.assessment_id == Assessment.id)
        .where(
            Assessment.period_id == period.id,
            Assessment.status.in_([AssessmentStatus.SUBMITTED.value, AssessmentStatus.APPRAISED.value]),
        )
    )
    counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for unit_id, status, unit_type, item in rows:
        first = (
            status == AssessmentStatus.SUBMITTED.value
            and item.appraisal1_status is None
            and (item.self_points is not None or item.na_claimed)
        )
        final = (
            item.appraisal1_status == AppraisalStatus.SUPPLEMENT_REQUESTED.value
            and item.unit_reply_at is not None
            and item.final_status is None
        )
        if not (first or final):
            continue
        agency_id = agencies.get(unit_type, {}).get(item.item_code)
        if agency_id is not None:
            counts[agency_id][unit_id] += 1
    return {a: dict(u) for a, u in counts.items()}
