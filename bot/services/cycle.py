"""The cycle of a period after self-assessment (SPEC §2): open appraisal, the explanation round,
the final appraisal, approval and publication; the "not ranked" flag (seed 003).

Each transition is one transaction: the status, the audit row and the notifications it causes.
Scores freeze at approval: every appraisal, reply and survey service refuses changes once the
period is approved (`stages.FROZEN`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    AppraisalStatus,
    Assessment,
    AssessmentStatus,
    ItemScore,
    Period,
    PeriodStatus,
    RankingGroup,
    RoleName,
    Unit,
)
from bot.i18n import translate
from bot.scoring.fmt import fmt_index
from bot.scoring.model import SurveyRule
from bot.services import audit
from bot.services.actor import Actor, require
from bot.services.appraisal import backlog
from bot.services.errors import ServiceError
from bot.services.outbox import enqueue
from bot.services.periods import PeriodInfo, criteria_for, get_period, period_info
from bot.services.ranking import ranking
from bot.services.recipients import agency_people, role_people, unit_people
from bot.services.stages import CONTESTED, FROZEN, Round, now_utc
from bot.services.tx import use_case
from bot.services.units import get_unit
from bot.text import N_, esc, fmt_dt, visible

#: target status → the statuses it may come from
TRANSITIONS: dict[str, tuple[str, ...]] = {
    PeriodStatus.APPRAISAL.value: (PeriodStatus.SELF_ASSESSMENT.value,),
    PeriodStatus.EXPLANATION.value: (PeriodStatus.SELF_ASSESSMENT.value, PeriodStatus.APPRAISAL.value),
    PeriodStatus.FINAL_APPRAISAL.value: (PeriodStatus.EXPLANATION.value,),
    PeriodStatus.APPROVED.value: (PeriodStatus.FINAL_APPRAISAL.value,),
    PeriodStatus.PUBLISHED.value: (PeriodStatus.APPROVED.value,),
}
IN_CYCLE = (AssessmentStatus.SUBMITTED.value, AssessmentStatus.APPRAISED.value)


NEXT: dict[str, str] = {
    PeriodStatus.SELF_ASSESSMENT.value: PeriodStatus.APPRAISAL.value,
    PeriodStatus.APPRAISAL.value: PeriodStatus.EXPLANATION.value,
    PeriodStatus.EXPLANATION.value: PeriodStatus.FINAL_APPRAISAL.value,
    PeriodStatus.FINAL_APPRAISAL.value: PeriodStatus.APPROVED.value,
    PeriodStatus.APPROVED.value: PeriodStatus.PUBLISHED.value,
}


def next_status(status: str) -> str | None:
    """The stage a period in `status` moves to next (None at the end or while a draft)."""
    return NEXT.get(status)


@dataclass(frozen=True)
class Undecided:
    unit_code: str
    item_code: str


async def _sheets(session: AsyncSession, period: Period) -> list[tuple[Assessment, Unit, list[ItemScore]]]:
    rows = list(
        await session.execute(
            select(Assessment, Unit)
            .join(Unit, Unit.id == Assessment.unit_id)
            .where(Assessment.period_id == period.id, Assessment.status.in_(IN_CYCLE))
            .order_by(Unit.code)
        )
    )
    items: dict[int, list[ItemScore]] = {}
    if rows:
        for item in await session.scalars(
            select(ItemScore).where(ItemScore.assessment_id.in_([a.id for a, _ in rows]))
        ):
            items.setdefault(item.assessment_id, []).append(item)
    return [(a, u, items.get(a.id, [])) for a, u in rows]


async def undecided(session: AsyncSession, period: Period) -> list[Undecided]:
    """Items of submitted sheets with no usable appraisal result: never appraised, or a supplement
    request with no final decision. Approval waits until there are none."""
    result: list[Undecided] = []
    for _assessment, unit, items in await _sheets(session, period):
        cs = await criteria_for(session, period, unit.unit_type)
        by_code = {i.item_code: i for i in items}
        for _area, _criterion, leaf in cs.leaves():
            if isinstance(leaf.rule, SurveyRule):
                continue
            item = by_code.get(leaf.code)
            if item is None or item.final_status is not None:
                if item is None:
                    result.append(Undecided(unit.code, leaf.code))
                continue
            if item.appraisal1_status in (None, AppraisalStatus.SUPPLEMENT_REQUESTED.value):
                result.append(Undecided(unit.code, leaf.code))
    return result


@use_case
async def advance(
    session: AsyncSession, actor: Actor, year: int, target: str, *, now: datetime | None = None
) -> PeriodInfo:
    """Move the period to `target` (appraisal, explanation, final_appraisal, approved, published)."""
    require(actor, RoleName.SECRETARIAT)
    period = await get_period(session, year)
    allowed = TRANSITIONS.get(target)
    if allowed is None:
        raise ServiceError("bad_value", what="status", reason=f"expected one of {', '.join(TRANSITIONS)}")
    if period.status not in allowed:
        raise ServiceError("wrong_stage", year=year, status=period.status, target=target)
    at = now_utc(now)
    if target == PeriodStatus.APPROVED.value:
        missing = await undecided(session, period)
        if missing:
            raise ServiceError(
                "undecided", count=len(missing), first=f"{missing[0].unit_code} {missing[0].item_code}"
            )
    before = audit.snapshot(period, ["status", "approved_at", "published_at"])
    period.status = target
    if target == PeriodStatus.APPROVED.value:
        period.approved_at = at
        for assessment, _unit, _items in await _sheets(session, period):
            assessment.status = AssessmentStatus.FINALIZED.value
    if target == PeriodStatus.PUBLISHED.value:
        period.published_at = at
    await session.flush()
    await announce(session, period, target, at)
    await audit.record(
        session,
        actor,
        f"period.{target}",
        "period",
        period.id,
        before,
        audit.snapshot(period, ["status", "approved_at", "published_at"]),
    )
    await session.commit()
    return await period_info(session, period)


def _stamp(period: Period, target: str) -> str:
    return f"{target}:{period.id}"


async def announce(session: AsyncSession, period: Period, target: str, at: datetime) -> None:
    """The notifications of a stage change (also for the scheduler's automatic stage locks): flushes
    outbox rows into the caller's transaction, idempotent per period and stage."""
    if target == PeriodStatus.APPRAISAL.value:
        await _to_appraisers(session, period, Round.FIRST, at)
    elif target == PeriodStatus.EXPLANATION.value:
        await _explanation_open(session, period)
    elif target == PeriodStatus.FINAL_APPRAISAL.value:
        await _to_appraisers(session, period, Round.FINAL, at)
    elif target == PeriodStatus.PUBLISHED.value:
        await _published(session, period)


async def _to_appraisers(session: AsyncSession, period: Period, rnd: Round, at: datetime) -> None:
    queue = await backlog(session, period, None, rnd, now=at)
    counts: dict[int, int] = {}
    for q in queue:
        counts[q.agency_id] = counts.get(q.agency_id, 0) + 1
    msgid = (
        N_("🔎 Appraisal of the PAR Index {year} is open: {n} item(s) wait for your agency in /pending.")
        if rnd is Round.FIRST
        else N_("🔎 The final appraisal of the PAR Index {year} is open: {n} item(s) wait in /pending.")
    )
    deadline = period.appraisal_deadline if rnd is Round.FIRST else period.final_deadline
    for agency_id, n in counts.items():
        for person in await agency_people(session, [agency_id]):
            text = translate(person.language, msgid, year=period.year, n=n)
            if deadline is not None:
                text += "\n" + translate(
                    person.language, N_("Deadline: {deadline}."), deadline=fmt_dt(deadline)
                )
            key = f"{_stamp(period, rnd.value)}:{person.id}"
            await enqueue(session, person.id, person.telegram_id, f"round_{rnd.value}", text, key)


async def _explanation_open(session: AsyncSession, period: Period) -> None:
    for _assessment, unit, items in await _sheets(session, period):
        n = sum(1 for i in items if i.appraisal1_status in CONTESTED)
        if not n:
            continue
        for person in await unit_people(session, unit.id):
            text = translate(
                person.language,
                N_(
                    "📝 The appraisal results of {unit} are out: {n} item(s) were adjusted or need more "
                    "evidence. Explain or add evidence with /explain until {deadline}."
                ),
                unit=esc(unit.name),
                n=n,
                deadline=fmt_dt(period.explanation_deadline) or "—",
            )
            key = f"{_stamp(period, 'explanation')}:{unit.id}:{person.id}"
            await enqueue(session, person.id, person.telegram_id, "explanation_open", text, key)


async def _published(session: AsyncSession, period: Period) -> None:
    groups = list(await session.scalars(select(RankingGroup).order_by(RankingGroup.code)))
    for group in groups:
        try:
            result = await ranking(session, period.year, group.code)
        except ServiceError:
            continue
        ranked = sum(1 for r in result.rows if r.ranked)
        for row in result.rows:
            if row.published is None:
                continue  # no result to announce: the sheet was never submitted
            for person in await unit_people(session, row.unit_id):
                locale = person.language or "vi"
                if row.ranked and row.band is not None:
                    band = row.band.name_en if locale == "en" else row.band.name_vi
                    text = translate(
                        person.language,
                        N_(
                            "🏁 The PAR Index {year} results are published. {unit}: <b>{index}</b> ({band}), "
                            "rank {rank} of {n} in {group}."
                        ),
                        year=period.year,
                        unit=esc(row.name),
                        index=fmt_index(row.published, locale),
                        band=esc(band),
                        rank=row.rank,
                        n=ranked,
                        group=esc(group.name),
                    )
                else:
                    text = translate(
                        person.language,
                        N_(
                            "🏁 The PAR Index {year} results are published. "
                            "{unit}: <b>{index}</b>, not ranked."
                        ),
                        year=period.year,
                        unit=esc(row.name),
                        index=fmt_index(row.published, locale),
                    )
                key = f"{_stamp(period, 'published')}:{row.unit_id}:{person.id}"
                await enqueue(session, person.id, person.telegram_id, "published", text, key)
    for person in await role_people(session, RoleName.LEADER.value):
        text = translate(
            person.language, N_("🏁 The PAR Index {year} results are published: see /rank."), year=period.year
        )
        await enqueue(
            session,
            person.id,
            person.telegram_id,
            "published",
            text,
            f"{_stamp(period, 'published')}:L:{person.id}",
        )


@use_case
async def set_not_ranked(
    session: AsyncSession, actor: Actor, year: int, unit_code: str, reason: str | None
) -> Assessment:
    """Mark a unit "not ranked" with a reason (seed 003: e.g. dishonest evidence), or clear the mark
    with `reason=None`. Possible until publication."""
    require(actor, RoleName.SECRETARIAT)
    period = await get_period(session, year)
    if period.status == PeriodStatus.PUBLISHED.value:
        raise ServiceError("period_locked", year=year, status=period.status)
    unit = await get_unit(session, unit_code)
    assessment = await session.scalar(
        select(Assessment).where(Assessment.period_id == period.id, Assessment.unit_id == unit.id)
    )
    if assessment is None:
        raise ServiceError("not_found", what="assessment", key=unit_code)
    cleaned = visible(reason) or None
    if reason is not None and cleaned is None:
        raise ServiceError("reason_required")
    before = audit.snapshot(assessment, ["not_ranked", "not_ranked_reason"])
    assessment.not_ranked = cleaned is not None
    assessment.not_ranked_reason = cleaned
    await audit.record(
        session,
        actor,
        "assessment.not_ranked",
        "assessment",
        assessment.id,
        before,
        audit.snapshot(assessment, ["not_ranked", "not_ranked_reason"]),
    )
    await session.commit()
    return assessment


async def not_ranked_units(session: AsyncSession, year: int) -> list[tuple[Unit, str]]:
    period = await get_period(session, year)
    rows = await session.execute(
        select(Unit, Assessment.not_ranked_reason)
        .join(Assessment, Assessment.unit_id == Unit.id)
        .where(Assessment.period_id == period.id, Assessment.not_ranked.is_(True))
        .order_by(Unit.code)
    )
    return [(u, r or "") for u, r in rows]


def frozen(period: Period) -> bool:
    return period.status in FROZEN
