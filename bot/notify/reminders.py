"""What the scheduled jobs do: reminders before deadlines, overdue escalations, the appraisers'
daily digest and the stage locks. Each is one transaction, takes `now` (the controllable clock),
re-reads the period and does nothing when the deadline it was planned for has moved (the schedule
is re-derived then). Outbox keys make every job safe to run twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import UNIT_ROLES, Agency, Period, PeriodStatus, RoleName, Unit
from bot.i18n import translate
from bot.notify.audience import (
    appraisers_of,
    pending_counts_by_agency,
    units_not_submitted,
    units_with_open_requests,
)
from bot.notify.unreachable import secretariat
from bot.services.actor import Actor
from bot.services.audit import record
from bot.services.cycle import announce
from bot.services.outbox import enqueue
from bot.services.recipients import people_of_units
from bot.text import esc, fmt_dt

__all__ = [
    "STAGES",
    "appraiser_digest",
    "escalate_overdue",
    "lock_stage",
    "pending_counts_by_agency",
    "remind_units",
]

SYSTEM = Actor.system("scheduler")


class Stage:
    def __init__(self, name: str, column: str, next_status: str | None, reminders: bool) -> None:
        self.name = name
        self.column = column
        self.next_status = next_status
        self.reminders = reminders  # units are reminded before, and heads escalated after


STAGES: dict[str, Stage] = {
    s.name: s
    for s in (
        Stage("self_assessment", "self_deadline", PeriodStatus.APPRAISAL.value, True),
        Stage("appraisal", "appraisal_deadline", PeriodStatus.EXPLANATION.value, False),
        Stage("explanation", "explanation_deadline", PeriodStatus.FINAL_APPRAISAL.value, True),
        # The end of the final appraisal locks the scores; approval stays the council's act.
        Stage("final_appraisal", "final_deadline", None, False),
    )
}
STATUS_LABELS = {
    "self_assessment": "self-assessment stage",
    "appraisal": "appraisal stage",
    "explanation": "explanation stage",
    "final_appraisal": "final appraisal stage",
}
DIGEST_STATUSES = (
    PeriodStatus.SELF_ASSESSMENT.value,
    PeriodStatus.APPRAISAL.value,
    PeriodStatus.EXPLANATION.value,
    PeriodStatus.FINAL_APPRAISAL.value,
)


def deadline_key(deadline: datetime) -> str:
    return deadline.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M")


async def _current(session: AsyncSession, period_id: int, stage: Stage, deadline: datetime) -> Period | None:
    """The period, if the deadline is still the one the job was planned for."""
    period = await session.get(Period, period_id, populate_existing=True)
    if period is None:
        return None
    current = getattr(period, stage.column)
    if current is None or deadline_key(current) != deadline_key(deadline):
        return None
    return period


async def _units(session: AsyncSession, period: Period, stage: Stage) -> dict[int, tuple[Unit, int]]:
    """unit id → (unit, open supplement requests) of units that have not done the stage's work."""
    if stage.name == "self_assessment":
        return {u.id: (u, 0) for u in await units_not_submitted(session, period)}
    open_requests = await units_with_open_requests(session, period)
    units = await session.scalars(select(Unit).where(Unit.id.in_(list(open_requests))))
    return {u.id: (u, open_requests[u.id]) for u in units}


async def _tell_units(
    session: AsyncSession,
    units: dict[int, tuple[Unit, int]],
    roles: Iterable[str],
    kind: str,
    key: str,
    text: Callable[[str | None, Unit, int], str],
) -> int:
    """Queue `text(language, unit, open requests)` for the people holding `roles` in each unit (keys
    `key:<person>:<unit>`) and commit. Returns messages queued."""
    queued = 0
    for person, unit_id in await people_of_units(session, list(units), roles):
        unit, open_requests = units[unit_id]
        message = text(person.language, unit, open_requests)
        row = await enqueue(
            session, person.id, person.telegram_id, kind, message, f"{key}:{person.id}:{unit_id}"
        )
        queued += row is not None
    await session.commit()
    return queued


async def remind_units(
    session: AsyncSession,
    period_id: int,
    stage_name: str,
    deadline: datetime,
    days: int,
    *,
    now: datetime,
    tz: ZoneInfo,
) -> int:
    """`days` before a deadline: every officer and head of a unit that has not submitted (self
    assessment) or has unanswered supplement requests (explanation). Returns messages queued."""
    stage = STAGES[stage_name]
    period = await _current(session, period_id, stage, deadline)
    if period is None or now >= deadline:
        return 0
    if stage.name == "self_assessment" and period.status != PeriodStatus.SELF_ASSESSMENT.value:
        return 0
    when = fmt_dt(deadline, tz)

    def text(language: str | None, unit: Unit, open_requests: int) -> str:
        if stage.name == "self_assessment":
            return translate(
                language,
                "⏰ Reminder: {days} day(s) left until the self-assessment deadline of the PAR Index "
                "{year} (<b>{deadline}</b>). {unit} has not submitted its self-assessment yet.",
                days=days,
                year=period.year,
                deadline=when,
                unit=esc(unit.name),
            )
        return translate(
            language,
            "⏰ Reminder: {unit} has {count} supplement request(s) not answered yet. The explanation "
            "round closes in {days} day(s) (<b>{deadline}</b>).",
            unit=esc(unit.name),
            count=open_requests,
            days=days,
            deadline=when,
        )

    units = await _units(session, period, stage)
    key = f"remind:{period.id}:{stage.name}:{deadline_key(deadline)}:{days}"
    return await _tell_units(session, units, UNIT_ROLES, "reminder", key, text)


async def escalate_overdue(
    session: AsyncSession, period_id: int, stage_name: str, deadline: datetime, *, now: datetime, tz: ZoneInfo
) -> int:
    """The morning after a deadline: the heads of units that still have not done the stage's work."""
    stage = STAGES[stage_name]
    period = await _current(session, period_id, stage, deadline)
    if period is None or now < deadline:
        return 0
    when = fmt_dt(deadline, tz)

    def text(language: str | None, unit: Unit, open_requests: int) -> str:
        if stage.name == "self_assessment":
            return translate(
                language,
                "❗ The self-assessment deadline of the PAR Index {year} (<b>{deadline}</b>) has passed and "
                "{unit} has not submitted its self-assessment. Please contact the secretariat.",
                year=period.year,
                deadline=when,
                unit=esc(unit.name),
            )
        return translate(
            language,
            "❗ The explanation round closed on <b>{deadline}</b> and {unit} left {count} supplement "
            "request(s) unanswered.",
            deadline=when,
            unit=esc(unit.name),
            count=open_requests,
        )

    units = await _units(session, period, stage)
    key = f"overdue:{period.id}:{stage.name}:{deadline_key(deadline)}"
    return await _tell_units(session, units, [RoleName.UNIT_HEAD.value], "overdue", key, text)


async def lock_stage(
    session: AsyncSession, period_id: int, stage_name: str, deadline: datetime, *, now: datetime, tz: ZoneInfo
) -> bool:
    """At the deadline: move the period to the next stage (audit row) and tell the secretariat."""
    stage = STAGES[stage_name]
    period = await _current(session, period_id, stage, deadline)
    if period is None or now < deadline or period.status != stage.name or stage.next_status is None:
        return False
    before = {"status": period.status}
    period.status = stage.next_status
    await record(session, SYSTEM, "period.stage_lock", "period", period.id, before, {"status": period.status})
    await announce(session, period, period.status, now)  # the same notices as a stage moved by hand
    for person in await secretariat(session):
        text = translate(
            person.language,
            "🔒 PAR Index {year}: the deadline {deadline} has passed; the period moved from "
            "<b>{before}</b> to <b>{after}</b>.",
            year=period.year,
            deadline=fmt_dt(deadline, tz),
            before=translate(person.language, STATUS_LABELS[stage.name]),
            after=translate(person.language, STATUS_LABELS[stage.next_status]),
        )
        key = f"stage-lock:{period.id}:{stage.name}:{deadline_key(deadline)}:{person.id}"
        await enqueue(session, person.id, person.telegram_id, "stage_lock", text, key)
    await session.commit()
    return True


async def appraiser_digest(session: AsyncSession, *, now: datetime, tz: ZoneInfo) -> int:
    """Every morning: each appraiser of an agency with pending items gets the count per unit."""
    day = now.astimezone(tz).date().isoformat()
    periods = list(await session.scalars(select(Period).where(Period.status.in_(DIGEST_STATUSES))))
    queued = 0
    for period in periods:
        pending = await pending_counts_by_agency(session, period)
        pending = {a: units for a, units in pending.items() if sum(units.values()) > 0}
        if not pending:
            continue
        unit_ids = {u for units in pending.values() for u in units}
        names = dict(
            (uid, name)
            for uid, name in await session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids)))
        )
        agencies = dict(
            (aid, name)
            for aid, name in await session.execute(
                select(Agency.id, Agency.name).where(Agency.id.in_(list(pending)))
            )
        )
        for person, agency_id in await appraisers_of(session, list(pending)):
            units = sorted(pending[agency_id].items(), key=lambda kv: (-kv[1], names.get(kv[0], "")))
            lines = [
                translate(
                    person.language,
                    "📋 PAR Index {year}: items waiting for appraisal by {agency}",
                    year=period.year,
                    agency=esc(agencies.get(agency_id, "")),
                ),
                "",
                *[f"• {esc(names.get(uid, uid))}: <b>{count}</b>" for uid, count in units[:40]],
                "",
                translate(
                    person.language,
                    "Total: <b>{total}</b> item(s) in {units} unit(s). Open /pending to appraise them.",
                    total=sum(c for _, c in units),
                    units=len(units),
                ),
            ]
            key = f"digest:{period.id}:{day}:{person.id}:{agency_id}"
            row = await enqueue(session, person.id, person.telegram_id, "digest", "\n".join(lines), key)
            queued += row is not None
    await session.commit()
    return queued
