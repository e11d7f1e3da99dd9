"""Actor, audit, outbox, criteria storage: the conventions every use case relies on."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.criteria import shipped_path
from bot.db.models import AuditLog, CriteriaSetRow, Outbox
from bot.scoring.loader import load_criteria_set
from bot.services.actor import Actor, load_actor, require
from bot.services.criteria import criteria_model, find_criteria_row, list_criteria_sets, store_criteria_set
from bot.services.errors import ServiceError
from bot.services.outbox import enqueue
from tests.services.conftest import SYSTEM, person_with


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_load_actor(session: AsyncSession) -> None:
    assert await load_actor(session, 1) is None
    await person_with(session, 1, "leader")
    actor = await load_actor(session, 1)
    assert actor is not None and actor.has("leader") and not actor.has("secretariat")
    assert [r.role for r in actor.roles] == ["leader"]


def test_require() -> None:
    require(Actor.system(), "secretariat")
    officer = Actor(1, "o", frozenset({("officer", 5, None)}))  # type: ignore[arg-type]
    require(officer, "officer", unit_id=5)
    with pytest.raises(ServiceError) as err:
        require(officer, "officer", unit_id=6)
    assert err.value.code == "forbidden"


async def test_store_criteria_set_once_with_audit(session: AsyncSession) -> None:
    cs = load_criteria_set(shipped_path("2018-so"))
    first = await store_criteria_set(session, SYSTEM, cs)
    second = await store_criteria_set(session, SYSTEM, cs)
    assert first.created and not second.created and first.id == second.id
    assert await count(session, CriteriaSetRow) == 1
    audit = (await session.scalars(select(AuditLog))).all()
    assert [(a.action, a.actor_label) for a in audit] == [("criteria.import", "test")]
    assert audit[0].after is not None and audit[0].after["sub_criteria"] == 44
    row = await find_criteria_row(session, "2018-so")
    assert criteria_model(row) == cs  # content round-trips exactly (Decimals included)
    assert [s.code for s in await list_criteria_sets(session)] == ["2018-so"]


async def test_store_criteria_refused_for_officer(session: AsyncSession) -> None:
    officer = await person_with(session, 7, "leader")
    with pytest.raises(ServiceError) as err:
        await store_criteria_set(session, officer, load_criteria_set(shipped_path("2018-so")))
    assert err.value.code == "forbidden"
    assert await count(session, CriteriaSetRow) == 0


async def test_outbox_idempotent(session: AsyncSession) -> None:
    assert await enqueue(session, None, 42, "test", "<b>a</b>", "k1") is not None
    assert await enqueue(session, None, 42, "test", "again", "k1") is None  # same transaction
    await session.commit()
    assert await enqueue(session, None, 42, "test", "again", "k1") is None  # after commit
    await session.commit()
    rows = (await session.scalars(select(Outbox))).all()
    assert [(r.text, r.status, r.attempts) for r in rows] == [("<b>a</b>", "pending", 0)]
