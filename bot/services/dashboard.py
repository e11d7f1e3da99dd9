"""The secretariat's progress dashboard (/progress): per ranking group, how many units have not
started, are scoring, have submitted or have been appraised; per agency, what waits and since when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Agency, Assessment, AssessmentStatus, Period, RankingGroup, RoleName, Unit
from bot.services.actor import Actor, require
from bot.services.appraisal import backlog
from bot.services.periods import active_period
from bot.services.stages import appraisal_round

CATEGORY = {
    AssessmentStatus.NOT_STARTED.value: "not_started",
    AssessmentStatus.DRAFT.value: "in_progress",
    AssessmentStatus.RETURNED.value: "in_progress",
    AssessmentStatus.SUBMITTED.value: "submitted",
    AssessmentStatus.APPRAISED.value: "appraised",
    AssessmentStatus.FINALIZED.value: "appraised",
}
CATEGORIES = ("not_started", "in_progress", "submitted", "appraised")


@dataclass(frozen=True)
class GroupProgress:
    code: str
    name: str
    counts: dict[str, int]


@dataclass(frozen=True)
class AgencyProgress:
    code: str
    name: str
    pending: int
    answered: int
    oldest: datetime | None
    oldest_item: str | None  # "UNIT 1.2.3"


@dataclass(frozen=True)
class Dashboard:
    period: Period
    groups: list[GroupProgress]
    agencies: list[AgencyProgress]


async def dashboard(session: AsyncSession, actor: Actor, *, now: datetime | None = None) -> Dashboard:
    require(actor, RoleName.SECRETARIAT)
    period = await active_period(session)
    groups = {g.id: g for g in await session.scalars(select(RankingGroup))}
    rows = await session.execute(
        select(Assessment.unit_id, Assessment.status).where(Assessment.period_id == period.id)
    )
    statuses = {unit_id: status for unit_id, status in rows}
    per_group: dict[int | None, dict[str, int]] = {}
    for unit in await session.scalars(select(Unit).where(Unit.active.is_(True))):
        counts = per_group.setdefault(unit.group_id, dict.fromkeys(CATEGORIES, 0))
        counts[CATEGORY.get(statuses.get(unit.id, "not_started"), "not_started")] += 1
    group_rows = [
        GroupProgress(
            groups[gid].code if gid in groups else "—",
            groups[gid].name if gid in groups else "—",
            counts,
        )
        for gid, counts in per_group.items()
    ]
    group_rows.sort(key=lambda g: g.code)
    rnd = appraisal_round(period, now)
    queue = await backlog(session, period, None, rnd, now=now) if rnd else []
    agencies: list[AgencyProgress] = []
    for agency in await session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.code)):
        mine = [q for q in queue if q.agency_id == agency.id]
        oldest = min(mine, key=lambda q: q.since) if mine else None
        agencies.append(
            AgencyProgress(
                agency.code,
                agency.name,
                len(mine),
                sum(q.answered for q in mine),
                oldest.since if oldest else None,
                f"{oldest.unit_code} {oldest.item_code}" if oldest else None,
            )
        )
    return Dashboard(period, group_rows, agencies)
