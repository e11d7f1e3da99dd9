"""A submitted sheet and two appraising agencies on top of the officer seed, for the appraisal and
cycle service tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Agency, AgencyAssignment, Outbox
from bot.services import assessment as officer
from bot.services.actor import Actor
from tests.officer_seed import Seeded, person, seed

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
