"""Assessment periods (kỳ đánh giá): create, open, show, stage deadlines, the current period."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Assessment,
    AssessmentStatus,
    CriteriaSetRow,
    Period,
    PeriodCriteria,
    PeriodStatus,
    RoleName,
    Unit,
    UnitType,
)
from bot.scoring.bands import DEFAULT_BANDS, bands_from_config
from bot.scoring.model import CriteriaSet
from bot.services.actor import Actor, require
from bot.services.audit import record, snapshot
from bot.services.criteria import criteria_model, find_criteria_row
from bot.services.errors import ServiceError
from bot.services.outbox import enqueue
from bot.services.recipients import people_of_units
from bot.services.tx import use_case
from bot.text import fmt_dt

# Stage name → the column holding the moment it ends ("opens" is when self-assessment starts).
STAGE_COLUMNS: dict[str, str] = {
    "opens": "opens_at",
    "self_assessment": "self_deadline",
    "appraisal": "appraisal_deadline",
    "explanation": "explanation_deadline",
    "final_appraisal": "final_deadline",
}
STAGE_ALIASES = {"open": "opens", "self": "self_assessment", "final": "final_appraisal"}
STATUS_ORDER = [s.value for s in PeriodStatus]


def default_settings() -> dict[str, Any]:
    return {
        "bands": [
            {"code": b.code, "name_vi": b.name_vi, "name_en": b.name_en, "min": str(b.min)}
            for b in DEFAULT_BANDS
        ],
        "tie_break": False,
        # group code → {"top_n": int, "threshold": "90"}; groups without an entry use the group row.
        "awards": {},
        "survey": True,
        "bonus_cap": None,
        "penalty_cap": None,
    }


_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$|^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_stage_time(text: str, tz: ZoneInfo, end_of_day: bool = True) -> datetime:
    """A deadline as people write it: "2026-03-31" or "31/03/2026" (local end of day, 23:59:59, or
    start of day when `end_of_day` is False), optionally followed by " HH:MM" local time; or an ISO
    8601 time with an offset. Returns aware UTC."""
    text = text.strip()
    date_part, _, time_part = text.partition(" ")
    match = _DATE.match(date_part)
    if match:
        if match.group(1):
            y, m, d = int(match.group(1)), int(match.group(2)), int(match.group(3))
        else:
            d, m, y = int(match.group(4)), int(match.group(5)), int(match.group(6))
        try:
            if time_part:
                hh, _, mm = time_part.strip().partition(":")
                clock = time(int(hh), int(mm or 0))
            else:
                clock = time(23, 59, 59) if end_of_day else time(0, 0)
            local = datetime(y, m, d, clock.hour, clock.minute, clock.second, tzinfo=tz)
        except ValueError as exc:
            raise ServiceError("bad_value", what=text, reason=f"not a valid date/time ({exc})") from exc
        return local.astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ServiceError(
            "bad_value", what=text, reason="expected YYYY-MM-DD, DD/MM/YYYY, optionally HH:MM"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def stage_key(name: str) -> str:
    key = STAGE_ALIASES.get(name, name)
    if key not in STAGE_COLUMNS:
        raise ServiceError(
            "bad_value", what=name, reason=f"unknown stage; expected one of {', '.join(STAGE_COLUMNS)}"
        )
    return key


@dataclass(frozen=True)
class PeriodInfo:
    id: int
    year: int
    name: str
    status: str
    stages: dict[str, datetime | None]
    criteria: dict[str, str]  # unit type → criteria set code
    settings: dict[str, Any]
    progress: dict[str, int] = field(default_factory=dict)  # assessment status → count

    def as_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "name": self.name,
            "status": self.status,
            "stages": {k: v.isoformat() if v else None for k, v in self.stages.items()},
            "criteria": self.criteria,
            "progress": self.progress,
        }


async def get_period(session: AsyncSession, year: int) -> Period:
    period = await session.scalar(select(Period).where(Period.year == year))
    if period is None:
        raise ServiceError("no_period", year=year)
    return period


async def current_period(session: AsyncSession) -> Period | None:
    """The latest period that has been opened; else the latest draft; None when there is none."""
    opened = await session.scalar(
        select(Period).where(Period.status != PeriodStatus.DRAFT.value).order_by(Period.year.desc()).limit(1)
    )
    if opened is not None:
        return opened
    return await session.scalar(select(Period).order_by(Period.year.desc()).limit(1))


async def active_period(session: AsyncSession) -> Period:
    """`current_period`, refused with `no_period` when there is none."""
    period = await current_period(session)
    if period is None:
        raise ServiceError("no_period", year="")
    return period


async def period_info(session: AsyncSession, period: Period) -> PeriodInfo:
    rows = await session.execute(
        select(PeriodCriteria.unit_type, CriteriaSetRow.code)
        .join(CriteriaSetRow, CriteriaSetRow.id == PeriodCriteria.criteria_set_id)
        .where(PeriodCriteria.period_id == period.id)
        .order_by(PeriodCriteria.unit_type)
    )
    progress = await session.execute(
        select(Assessment.status, func.count())
        .where(Assessment.period_id == period.id)
        .group_by(Assessment.status)
    )
    return PeriodInfo(
        id=period.id,
        year=period.year,
        name=period.name,
        status=period.status,
        stages={stage: getattr(period, column) for stage, column in STAGE_COLUMNS.items()},
        criteria={t: c for t, c in rows},
        settings=dict(period.settings or {}),
        progress={s: n for s, n in progress},
    )


async def show_period(session: AsyncSession, year: int | None = None) -> PeriodInfo:
    period = await get_period(session, year) if year is not None else await current_period(session)
    if period is None:
        raise ServiceError("no_period", year="any year")
    return await period_info(session, period)


def _check_stage_order(period: Period) -> None:
    previous: tuple[str, datetime] | None = None
    for stage, column in STAGE_COLUMNS.items():
        value = getattr(period, column)
        if value is None:
            continue
        if previous is not None and value <= previous[1]:
            raise ServiceError(
                "bad_value", what=f"stage {stage}", reason=f"must end after stage {previous[0]}"
            )
        previous = (stage, value)


@use_case
async def create_period(
    session: AsyncSession,
    actor: Actor,
    year: int,
    criteria: Mapping[str, str],
    *,
    name: str | None = None,
    stages: Mapping[str, datetime] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> PeriodInfo:
    """A draft period for `year` with a criteria set (code, id or hash prefix) per unit type."""
    require(actor, RoleName.SECRETARIAT)
    if not 2000 <= year <= 2100:
        raise ServiceError("bad_value", what="year", reason=f"{year} is not a plausible year")
    if await session.scalar(select(Period.id).where(Period.year == year)) is not None:
        raise ServiceError("duplicate", what="period", key=str(year))
    if not criteria:
        raise ServiceError("bad_value", what="criteria", reason="give at least one criteria set")
    merged = {**default_settings(), **(settings or {})}
    try:
        bands_from_config(merged["bands"])
    except ValueError as exc:
        raise ServiceError("bad_value", what="bands", reason=str(exc)) from exc
    period = Period(year=year, name=name or f"Chỉ số CCHC năm {year}", settings=merged)
    for stage, when in (stages or {}).items():
        setattr(period, STAGE_COLUMNS[stage_key(stage)], when)
    _check_stage_order(period)
    session.add(period)
    await session.flush()
    for unit_type, ref in criteria.items():
        if unit_type not in {t.value for t in UnitType}:
            raise ServiceError("bad_value", what="unit type", reason=f"unknown unit type {unit_type!r}")
        row = await find_criteria_row(session, ref)
        if unit_type not in row.unit_types:
            raise ServiceError(
                "bad_value",
                what=f"criteria set {row.code}",
                reason=f"is for {', '.join(row.unit_types)}, not {unit_type}",
            )
        session.add(PeriodCriteria(period_id=period.id, unit_type=unit_type, criteria_set_id=row.id))
    await session.flush()
    info = await period_info(session, period)
    await record(session, actor, "period.create", "period", period.id, None, info.as_json())
    await session.commit()
    return info


@use_case
async def open_period(
    session: AsyncSession,
    actor: Actor,
    year: int,
    *,
    now: datetime | None = None,
    tz: str = "Asia/Ho_Chi_Minh",
) -> PeriodInfo:
    """Start self-assessment: status → self_assessment, an empty assessment for every active unit
    whose type has a criteria set, and a notification to each unit's officers and heads."""
    require(actor, RoleName.SECRETARIAT)
    now = now or datetime.now(UTC)
    period = await get_period(session, year)
    if period.status != PeriodStatus.DRAFT.value:
        raise ServiceError("period_locked", year=year, status=period.status)
    before = snapshot(period, ["status", "opens_at"])
    period.status = PeriodStatus.SELF_ASSESSMENT.value
    if period.opens_at is None or period.opens_at > now:
        period.opens_at = now
    _check_stage_order(period)
    types = list(
        await session.scalars(select(PeriodCriteria.unit_type).where(PeriodCriteria.period_id == period.id))
    )
    units = list(await session.scalars(select(Unit).where(Unit.active.is_(True), Unit.unit_type.in_(types))))
    for unit in units:
        await get_or_create_assessment(session, period.id, unit.id)
    zone = ZoneInfo(tz)
    people = {person.id: person for person, _unit_id in await people_of_units(session, [u.id for u in units])}
    for person in people.values():
        deadline = fmt_dt(period.self_deadline, zone) or "—"
        if person.language == "en":
            text = f"The PAR Index {year} self-assessment is open. Deadline: <b>{deadline}</b>."
        else:
            text = f"Kỳ tự đánh giá Chỉ số CCHC năm {year} đã mở. Hạn nộp: <b>{deadline}</b>."
        await enqueue(
            session,
            person.id,
            person.telegram_id,
            "period_opened",
            text,
            f"period-open:{period.id}:{person.id}",
        )
    await record(
        session, actor, "period.open", "period", period.id, before, snapshot(period, ["status", "opens_at"])
    )
    await session.commit()
    return await period_info(session, period)


@use_case
async def set_deadline(
    session: AsyncSession, actor: Actor, year: int, stage: str, when: datetime
) -> PeriodInfo:
    """Move the end of one stage; stages must stay in order. Allowed until the period is approved."""
    require(actor, RoleName.SECRETARIAT)
    period = await get_period(session, year)
    if period.status in (PeriodStatus.APPROVED.value, PeriodStatus.PUBLISHED.value):
        raise ServiceError("period_locked", year=year, status=period.status)
    column = STAGE_COLUMNS[stage_key(stage)]
    before = {column: getattr(period, column)}
    setattr(period, column, when)
    _check_stage_order(period)
    await record(session, actor, "period.set_deadline", "period", period.id, before, {column: when})
    await session.commit()
    return await period_info(session, period)


@use_case
async def set_period_status(session: AsyncSession, actor: Actor, year: int, status: str) -> PeriodInfo:
    """Move a period forward to a later stage (never back: results already shown stay valid)."""
    require(actor, RoleName.SECRETARIAT)
    period = await get_period(session, year)
    if status not in STATUS_ORDER:
        raise ServiceError("bad_value", what="status", reason=f"expected one of {', '.join(STATUS_ORDER)}")
    if STATUS_ORDER.index(status) <= STATUS_ORDER.index(period.status):
        raise ServiceError("period_locked", year=year, status=period.status)
    before = snapshot(period, ["status", "approved_at", "published_at"])
    period.status = status
    now = datetime.now(UTC)
    if status == PeriodStatus.APPROVED.value:
        period.approved_at = now
    if status == PeriodStatus.PUBLISHED.value:
        period.approved_at = period.approved_at or now
        period.published_at = now
    await record(
        session,
        actor,
        "period.status",
        "period",
        period.id,
        before,
        snapshot(period, ["status", "approved_at", "published_at"]),
    )
    await session.commit()
    return await period_info(session, period)


async def get_or_create_assessment(session: AsyncSession, period_id: int, unit_id: int) -> Assessment:
    """The unit's sheet for the period, created (not_started) when missing. Flushes, never commits:
    it is a step inside the caller's use case."""
    assessment = await session.scalar(
        select(Assessment).where(Assessment.period_id == period_id, Assessment.unit_id == unit_id)
    )
    if assessment is None:
        assessment = Assessment(
            period_id=period_id, unit_id=unit_id, status=AssessmentStatus.NOT_STARTED.value
        )
        session.add(assessment)
        await session.flush()
    return assessment


async def criteria_for(session: AsyncSession, period: Period, unit_type: str) -> CriteriaSet:
    row = await session.scalar(
        select(CriteriaSetRow)
        .join(PeriodCriteria, PeriodCriteria.criteria_set_id == CriteriaSetRow.id)
        .where(PeriodCriteria.period_id == period.id, PeriodCriteria.unit_type == unit_type)
    )
    if row is None:
        raise ServiceError("no_criteria", unit_type=unit_type, year=period.year)
    return criteria_model(row)
