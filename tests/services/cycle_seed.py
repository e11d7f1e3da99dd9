"""A submitted sheet and two appraising agencies on top of the officer seed, for the appraisal and
cycle service tests; and `province`: many units on the shipped 2025 sets, for tests at scale."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.criteria import shipped_path
from bot.db.models import Agency, AgencyAssignment, Assessment, Outbox, Unit
from bot.scoring.loader import load_criteria_set
from bot.scoring.model import CriteriaSet
from bot.services import assessment as officer
from bot.services import demo
from bot.services.actor import Actor
from bot.services.agencies import assign, create_agency, known_scopes
from bot.services.criteria import store_criteria_set
from bot.services.periods import create_period, open_period
from bot.services.units import UnitRow, upsert_units
from tests.officer_seed import Seeded, person, seed

SYSTEM = Actor.system("test")

ANSWERS = {
    "1.1.1": "0",  # level 0: 1 point
    "1.1.2": "45/50",  # 90%: 1 point
    "1.1.3": "yes",
    "1.2": "90,5 %",
    "2.1.1": "3",
    "2.1.2": "2,25",
    "2.1.3": "1",
}


@dataclass
class World:
    base: Seeded
    aid: int  # SNV's submitted sheet
    other_aid: int  # STP's submitted sheet
    tp_appraiser: Actor
    secretariat: Actor
    leader: Actor
    snv_id: int = 0


async def fill_and_submit(
    session: AsyncSession, officer_actor: Actor, head: Actor, *, na: bool = False
) -> int:
    sheet = await officer.open_sheet(session, officer_actor)
    aid = sheet.assessment.id
    for code, text in ANSWERS.items():
        if na and code == "1.1.3":
            await officer.claim_na(session, officer_actor, aid, code, "Không có đơn vị trực thuộc")
            continue
        await officer.save_answer(session, officer_actor, aid, code, text)
        await officer.set_explanation(session, officer_actor, aid, code, f"Giải trình {code}")
    await officer.submit(session, head, aid)
    return aid


async def world(session: AsyncSession, *, na: bool = False) -> World:
    base = await seed(session)
    tp = Agency(code="TP", name="Sở Tư pháp (thẩm định)")
    session.add(tp)
    await session.flush()
    session.add(AgencyAssignment(period_id=base.period.id, agency_id=tp.id, scope="2", kind="field"))
    tp_appraiser = await person(session, 3002, "Thẩm định E", "appraiser", agency_id=tp.id)
    secretariat = await person(session, 4001, "Văn thư F", "secretariat")
    leader = await person(session, 5001, "Lãnh đạo G", "leader")
    other_head = await person(session, 2002, "Giám đốc H", "unit_head", unit_id=base.other_unit.id)
    await session.commit()
    aid = await fill_and_submit(session, base.officer, base.head, na=na)
    other_aid = await fill_and_submit(session, base.other_officer, other_head)
    return World(base, aid, other_aid, tp_appraiser, secretariat, leader, base.unit.id)


async def outbox(session: AsyncSession, kind: str | None = None) -> list[Outbox]:
    query = select(Outbox).order_by(Outbox.id)
    if kind is not None:
        query = query.where(Outbox.kind == kind)
    return list(await session.scalars(query))


# ----------------------------------------------------------------------------- a province at scale

PROVINCE_YEAR = 2025


@dataclass
class Province:
    """Units on the shipped 2025 sets and the demo's appraising agencies (see `province`)."""

    year: int
    units: list[Unit]  # departments (D01…) then communes (X001…), by code
    sets: dict[str, CriteriaSet]  # unit type → criteria set
    heads: dict[str, Actor] = field(default_factory=dict)  # unit code → unit head
    appraisers: dict[str, Actor] = field(default_factory=dict)  # agency code → appraiser
    secretariat: Actor = SYSTEM
    leader: Actor = SYSTEM


def dept_name(i: int) -> str:
    return f"Sở Thử nghiệm Hành chính và Chuyển đổi số {i:02d}"


def commune_name(i: int) -> str:
    return f"Ủy ban nhân dân xã Thử Nghiệm Phúc Lộc Thượng {i:03d}"


async def province(
    session: AsyncSession,
    *,
    departments: int = 6,
    communes: int = 0,
    people: bool = True,
    submitted: bool = False,
    now: datetime | None = None,
) -> Province:
    """A province of `departments` (2025-so) and `communes` (2025-xa) with the demo's five
    appraising agencies holding the fields as in the demo, its period opened in self-assessment
    (appraisal round open: deadlines 40/50/60 days ahead). `people`: a head per unit, an appraiser
    per agency, a secretariat and a leader. `submitted`: every sheet filled by `demo.fill_sheet`
    and submitted at once, so each agency has every unit in its /pending queue."""
    now = now or datetime.now(UTC)
    sets = {code: load_criteria_set(shipped_path(code)) for code in ("2025-so", "2025-xa")}
    for cs in sets.values():
        await store_criteria_set(session, SYSTEM, cs)
    rows = [
        UnitRow(f"D{i:02d}", dept_name(i), "so", "SO", demo.GROUPS["SO"]) for i in range(1, departments + 1)
    ]
    rows += [
        UnitRow(f"X{i:03d}", commune_name(i), "xa", "XA", demo.GROUPS["XA"]) for i in range(1, communes + 1)
    ]
    await upsert_units(session, SYSTEM, rows)
    for code, name in demo.AGENCIES:
        await create_agency(session, SYSTEM, code, name)
    await session.commit()
    by_type = {"so": "2025-so", "xa": "2025-xa", "phuong": "2025-xa", "dac_khu": "2025-xa"}
    stages = {
        "self_assessment": now + timedelta(days=30),
        "appraisal": now + timedelta(days=40),
        "explanation": now + timedelta(days=50),
        "final_appraisal": now + timedelta(days=60),
    }
    await create_period(session, SYSTEM, PROVINCE_YEAR, by_type, stages=stages)
    for key in sorted(known_scopes(list(sets.values()))[0]):
        await assign(session, SYSTEM, PROVINCE_YEAR, demo.FIELD_AGENCY.get(key, "SNV"), key, "field")
    await open_period(session, SYSTEM, PROVINCE_YEAR, now=now)
    units = list(await session.scalars(select(Unit).order_by(Unit.code)))
    result = Province(PROVINCE_YEAR, units, {t: sets[c] for t, c in by_type.items()})
    if people:
        for i, unit in enumerate(units):
            result.heads[unit.code] = await person(
                session, 10_000 + i, f"Thủ trưởng {unit.code}", "unit_head", unit_id=unit.id
            )
        for i, agency in enumerate(await session.scalars(select(Agency).order_by(Agency.code))):
            result.appraisers[agency.code] = await person(
                session, 30_000 + i, f"Thẩm định {agency.code}", "appraiser", agency_id=agency.id
            )
        result.secretariat = await person(session, 40_000, "Văn phòng Sở Nội vụ", "secretariat")
        result.leader = await person(session, 50_000, "Lãnh đạo tỉnh", "leader")
        await session.commit()
    if submitted:
        sheets = await session.scalars(select(Assessment).where(Assessment.period_id.is_not(None)))
        types = {u.id: u.unit_type for u in units}
        for assessment in sheets:
            rng = random.Random(f"province:{assessment.unit_id}")
            cs = result.sets[types[assessment.unit_id]]
            await demo.fill_sheet(session, cs, assessment, "submitted", 0.8, rng, now, {})
        await session.commit()
    return result
