"""Reminders, escalations, digests and stage locks at the right local time, with a controllable clock;
idempotent job creation; one leader among several schedulers."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db.engine import make_sessionmaker
from bot.db.models import (
    AgencyAssignment,
    Assessment,
    AuditLog,
    ItemScore,
    Outbox,
    Period,
    PeriodCriteria,
    Person,
    Role,
    RoleName,
    Unit,
)
from bot.notify.leader import RedisLock, make_leader_lock
from bot.notify.reminders import pending_counts_by_agency
from bot.notify.scheduler import Scheduler
from bot.scoring.loader import load_criteria_set
from bot.services.actor import Actor
from bot.services.agencies import create_agency
from bot.services.criteria import store_criteria_set

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parents[2]
_IDS = itertools.count(10_001)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=TZ)


@dataclass
class Clock:
    at: datetime

    def __call__(self) -> datetime:
        return self.at


@dataclass
class World:
    period: Period
    units: dict[str, Unit] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)


async def _person(
    session: AsyncSession, name: str, role: str, unit: Unit | None, language: str = "vi"
) -> Person:
    person = Person(telegram_id=next(_IDS), full_name=name, language=language)
    session.add(person)
    await session.flush()
    session.add(Role(person_id=person.id, role=role, unit_id=unit.id if unit else None))
    return person


async def seed_world(session: AsyncSession) -> World:
    """Period 2027 in self-assessment, deadline 31/03 end of day local; unit A not started (officer
    in Vietnamese, head in English), B submitted, C draft; one secretariat person."""
    period = Period(
        year=2027,
        name="Chỉ số CCHC 2027",
        status="self_assessment",
        opens_at=local(2027, 3, 1),
        self_deadline=local(2027, 3, 31, 23, 59, 59),
        appraisal_deadline=local(2027, 4, 20, 23, 59, 59),
        explanation_deadline=local(2027, 4, 30, 23, 59, 59),
        final_deadline=local(2027, 5, 10, 23, 59, 59),
    )
    session.add(period)
    world = World(period)
    for code, status in (("A", "not_started"), ("B", "submitted"), ("C", "draft")):
        unit = Unit(code=code, name=f"Sở {code}", name_search=f"so {code.lower()}", unit_type="so")
        session.add(unit)
        await session.flush()
        session.add(Assessment(period_id=period.id, unit_id=unit.id, status=status))
        world.units[code] = unit
    people = world.people
    people["a_officer"] = await _person(session, "Officer A", RoleName.OFFICER.value, world.units["A"])
    people["a_head"] = await _person(session, "Head A", RoleName.UNIT_HEAD.value, world.units["A"], "en")
    people["b_officer"] = await _person(session, "Officer B", RoleName.OFFICER.value, world.units["B"])
    people["c_head"] = await _person(session, "Head C", RoleName.UNIT_HEAD.value, world.units["C"])
    people["secretary"] = await _person(session, "Secretary", RoleName.SECRETARIAT.value, None)
    await session.commit()
    return world


async def outbox(session: AsyncSession, kind: str) -> list[Outbox]:
    """Fresh rows of one kind (the session's other objects are left alone: no lazy loads)."""
    query = select(Outbox).where(Outbox.kind == kind).order_by(Outbox.id)
    return list(await session.scalars(query.execution_options(populate_existing=True)))


def _scheduler(engine: AsyncEngine, db_url: str, clock: Clock, **kw: object) -> Scheduler:
    lock = make_leader_lock(db_url, engine)
    return Scheduler(make_sessionmaker(engine), lock, now=clock, paused=True, **kw)  # type: ignore[arg-type]


async def test_reminders_fire_at_08_local_on_the_right_days(
    session: AsyncSession, engine: AsyncEngine, db_url: str
) -> None:
    world = await seed_world(session)
    clock = Clock(local(2027, 3, 20, 10, 0))
    scheduler = _scheduler(engine, db_url, clock)
    await scheduler.start()
    try:
        assert scheduler.is_leader
        times = {j.id: j.next_run_time for j in scheduler.jobs()}
        pid = world.period.id
        base = f"{pid}:self_assessment:20270331T1659"
        assert times[f"remind:{base}:7"] == local(2027, 3, 24, 8, 0)
        assert times[f"remind:{base}:3"] == local(2027, 3, 28, 8, 0)
        assert times[f"remind:{base}:1"] == local(2027, 3, 30, 8, 0)
        assert times[f"lock:{base}"] == local(2027, 3, 31, 23, 59, 59)
        assert times[f"escalate:{base}"] == local(2027, 4, 1, 8, 0)
        assert times[f"lock:{pid}:appraisal:20270420T1659"] == local(2027, 4, 20, 23, 59, 59)
        assert times[f"remind:{pid}:explanation:20270430T1659:7"] == local(2027, 4, 23, 8, 0)
        assert all(t is not None and t.utcoffset() == timedelta(hours=7) for t in times.values())

        # one minute early: nothing; at 08:00 local the 7-day reminder
        clock.at = local(2027, 3, 24, 7, 59)
        assert [j for j in await scheduler.run_due() if j.startswith("remind")] == []
        assert await outbox(session, "reminder") == []
        clock.at = local(2027, 3, 24, 8, 0)
        assert f"remind:{base}:7" in await scheduler.run_due()
        rows = await outbox(session, "reminder")
        people = world.people
        assert {r.person_id for r in rows} == {
            people["a_officer"].id,
            people["a_head"].id,
            people["c_head"].id,
        }
        by_person = {r.person_id: r.text for r in rows}
        assert "còn 7 ngày" in by_person[people["a_officer"].id]
        assert "Sở A chưa nộp" in by_person[people["a_officer"].id]
        assert "31/03/2027 23:59" in by_person[people["a_officer"].id]
        assert "7 day(s) left" in by_person[people["a_head"].id]  # English for language "en"

        # unit C submits before the 3-day reminder: only unit A is reminded then
        c = await session.scalar(select(Assessment).where(Assessment.unit_id == world.units["C"].id))
        assert c is not None
        c.status = "submitted"
        await session.commit()
        clock.at = local(2027, 3, 28, 8, 0)
        assert f"remind:{base}:3" in await scheduler.run_due()
        rows = [r for r in await outbox(session, "reminder") if ":3:" in r.idempotency_key]
        assert {r.person_id for r in rows} == {people["a_officer"].id, people["a_head"].id}

        # the deadline passes: the stage locks (audit row), the secretariat is told
        clock.at = local(2027, 3, 31, 23, 59, 58)
        ran = await scheduler.run_due()
        assert f"remind:{base}:1" in ran and f"lock:{base}" not in ran
        clock.at = local(2027, 3, 31, 23, 59, 59)
        assert f"lock:{base}" in await scheduler.run_due()
        period = await session.get(Period, world.period.id, populate_existing=True)
        assert period is not None and period.status == "appraisal"
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "period.stage_lock"))
        assert audit is not None and audit.after == {"status": "appraisal"}
        (lock_note,) = await outbox(session, "stage_lock")
        assert lock_note.person_id == people["secretary"].id and "thẩm định" in lock_note.text

        # the next morning at 08:00: the head of the unit still not submitted is escalated to
        clock.at = local(2027, 4, 1, 8, 0)
        assert f"escalate:{base}" in await scheduler.run_due()
        (escalation,) = await outbox(session, "overdue")
        assert escalation.person_id == people["a_head"].id
        assert "has not submitted" in escalation.text

        # running everything again sends nothing twice
        before = len(await outbox(session, "reminder")) + len(await outbox(session, "overdue"))
        await scheduler.resync()
        await scheduler.run_due()
        assert len(await outbox(session, "reminder")) + len(await outbox(session, "overdue")) == before
    finally:
        await scheduler.stop()


def planned(scheduler: Scheduler) -> set[tuple[str, datetime | None]]:
    """Jobs and their times, without the periodic resync (its time is the real clock's)."""
    return {(j.id, j.next_run_time) for j in scheduler.jobs() if j.id != Scheduler.RESYNC_ID}


async def test_job_creation_is_idempotent_and_follows_deadline_changes(
    session: AsyncSession, engine: AsyncEngine, db_url: str
) -> None:
    world = await seed_world(session)
    clock = Clock(local(2027, 3, 20, 10, 0))
    first = _scheduler(engine, db_url, clock)
    await first.start()
    jobs_first = planned(first)
    await first.resync()
    assert planned(first) == jobs_first
    await first.stop()
    second = _scheduler(engine, db_url, clock)
    await second.start()
    try:
        assert planned(second) == jobs_first
        # the secretariat moves the deadline: the reminders follow, the old ones are gone
        period = await session.get(Period, world.period.id)
        assert period is not None
        period.self_deadline = local(2027, 4, 5, 23, 59, 59)
        await session.commit()
        await second.resync()
        ids = {j.id for j in second.jobs()}
        assert not any("20270331T1659" in i for i in ids)
        moved = {j.id: j.next_run_time for j in second.jobs()}
        assert moved[f"remind:{period.id}:self_assessment:20270405T1659:7"] == local(2027, 3, 29, 8, 0)
    finally:
        await second.stop()


async def test_only_one_scheduler_leads(session: AsyncSession, engine: AsyncEngine, db_url: str) -> None:
    await seed_world(session)
    clock = Clock(local(2027, 3, 20, 10, 0))
    a = _scheduler(engine, db_url, clock, lock_retry=0.1)
    b = _scheduler(engine, db_url, clock, lock_retry=0.1)
    await a.start()
    await b.start()
    try:
        assert a.is_leader and not b.is_leader
        assert a.jobs() and b.jobs() == []
        clock.at = local(2027, 3, 24, 8, 0)
        spec = next(j for j in a.jobs() if j.id.startswith("remind:")).args[0]
        await b._execute(spec)  # a stand-by never runs a job, even if asked
        assert await outbox(session, "reminder") == []
        await a.stop()  # the leader goes away: the stand-by takes over
        for _ in range(50):
            if b.is_leader:
                break
            await asyncio.sleep(0.1)
        assert b.is_leader and b.jobs()
    finally:
        await a.stop()
        await b.stop()


@pytest.mark.redis
async def test_redis_leader_lock() -> None:
    name = f"cchc-test-lock-{uuid.uuid4().hex}"
    a = RedisLock("redis://127.0.0.1:6379/0", name, ttl_ms=5000)
    b = RedisLock("redis://127.0.0.1:6379/0", name, ttl_ms=5000)
    try:
        try:
            assert await a.acquire()
        except OSError as exc:  # pragma: no cover - no server here
            pytest.skip(f"Redis not reachable: {exc}")
        assert not await b.acquire()
        assert await a.still_held()
        await a.release()
        assert await b.acquire()
        assert not await a.acquire()
    finally:
        await a.release()
        await b.release()


async def test_digest_counts_pending_items_per_unit(
    session: AsyncSession, engine: AsyncEngine, db_url: str
) -> None:
    world = await seed_world(session)
    system = Actor.system("test")
    cs = load_criteria_set(ROOT / "bot" / "criteria" / "2025-so.yaml")
    stored = await store_criteria_set(session, system, cs)
    agency = await create_agency(session, system, "tu_phap", "Sở Tư pháp")
    await session.commit()
    field_area = cs.fields[0]
    field_key = next(leaf.appraisal_field or field_area.code for _, _, leaf in cs.leaves())
    session.add(PeriodCriteria(period_id=world.period.id, unit_type="so", criteria_set_id=stored.id))
    session.add(
        AgencyAssignment(period_id=world.period.id, agency_id=agency.id, scope=field_key, kind="field")
    )
    appraiser = await _person(session, "Appraiser", RoleName.APPRAISER.value, None)
    role = await session.scalar(select(Role).where(Role.person_id == appraiser.id))
    assert role is not None
    role.agency_id = agency.id
    b = await session.scalar(select(Assessment).where(Assessment.unit_id == world.units["B"].id))
    assert b is not None
    leaves = [leaf.code for fa, _, leaf in cs.leaves() if (leaf.appraisal_field or fa.code) == field_key]
    for code in leaves[:3]:
        session.add(ItemScore(assessment_id=b.id, item_code=code, self_points=1, appraisal1_status=None))
    session.add(
        ItemScore(assessment_id=b.id, item_code=leaves[3], self_points=1, appraisal1_status="accepted")
    )
    await session.commit()

    period = await session.get(Period, world.period.id)
    assert period is not None
    assert await pending_counts_by_agency(session, period) == {agency.id: {world.units["B"].id: 3}}

    clock = Clock(local(2027, 3, 21, 7, 0))
    scheduler = _scheduler(engine, db_url, clock)
    await scheduler.start()
    try:
        digest = next(j for j in scheduler.jobs() if j.id == "digest")
        assert digest.next_run_time is not None and digest.next_run_time.astimezone(TZ).time().hour == 8
        await scheduler._digest()
        (row,) = await outbox(session, "digest")
        assert row.person_id == appraiser.id
        assert "Sở B: <b>3</b>" in row.text and "Sở Tư pháp" in row.text
        await scheduler._digest()  # once a day
        assert len(await outbox(session, "digest")) == 1
    finally:
        await scheduler.stop()
