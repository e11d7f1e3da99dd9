"""The schema: migrations match the models, points are exact, constraints hold, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from bot.db.engine import make_engine, make_sessionmaker
from bot.db.migrate import current_revision, head_revision, is_up_to_date, upgrade
from bot.db.models import (
    Assessment,
    Base,
    HistoryResult,
    ItemScore,
    Outbox,
    Period,
    Person,
    RankingGroup,
    Role,
    Unit,
)
from bot.db.types import POINTS_SCALE


async def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()


async def test_upgrade_from_empty_matches_models(empty_db_url: str) -> None:
    assert await current_revision(empty_db_url) is None
    assert not await is_up_to_date(empty_db_url)
    await upgrade(empty_db_url)
    assert await current_revision(empty_db_url) == head_revision()
    assert await is_up_to_date(empty_db_url)
    assert await _diff(empty_db_url) == []
    await upgrade(empty_db_url)  # idempotent
    assert await is_up_to_date(empty_db_url)


async def _unit(session: AsyncSession, code: str = "SNV") -> Unit:
    group = RankingGroup(code=f"g-{code}", name="Sở")
    session.add(group)
    await session.flush()
    unit = Unit(code=code, name="Sở Nội vụ", name_search="so noi vu", unit_type="so", group_id=group.id)
    session.add(unit)
    await session.flush()
    return unit


async def _assessment(session: AsyncSession) -> Assessment:
    """An empty sheet of a new unit in a new 2026 period (flushed)."""
    unit = await _unit(session)
    period = Period(year=2026, name="2026")
    session.add(period)
    await session.flush()
    assessment = Assessment(period_id=period.id, unit_id=unit.id)
    session.add(assessment)
    await session.flush()
    return assessment


@pytest.mark.parametrize(
    "value",
    ["0", "0.0001", "0.25", "1.5", "17", "99.9999", "100", "33.3333", "123456789.1234"],
)
async def test_points_round_trip_exact(session: AsyncSession, value: str) -> None:
    unit = await _unit(session)
    session.add(HistoryResult(year=2025, group_id=unit.group_id, unit_id=unit.id, index=Decimal(value)))
    await session.commit()
    session.expunge_all()
    stored = (await session.execute(select(HistoryResult.index))).scalar_one()
    assert stored == Decimal(value)
    assert isinstance(stored, Decimal)
    raw = (await session.execute(text("SELECT " + '"index"' + " FROM history_results"))).scalar_one()
    assert raw == int(Decimal(value) * POINTS_SCALE)


async def test_points_quantized_half_up_and_float_refused(session: AsyncSession) -> None:
    unit = await _unit(session)
    session.add(HistoryResult(year=2024, group_id=unit.group_id, unit_id=unit.id, index=Decimal("1.00005")))
    await session.commit()
    assert (await session.execute(select(HistoryResult.index))).scalar_one() == Decimal("1.0001")
    session.add(HistoryResult(year=2023, group_id=unit.group_id, unit_id=unit.id, index=0.1))  # type: ignore[arg-type]
    with pytest.raises(Exception, match="float"):
        await session.flush()


async def test_sql_sum_of_points_is_exact(session: AsyncSession) -> None:
    assessment = await _assessment(session)
    values = [Decimal("0.1")] * 10 + [Decimal("0.25"), Decimal("1.3333")]
    for i, v in enumerate(values):
        session.add(ItemScore(assessment_id=assessment.id, item_code=f"1.{i}", self_points=v))
    await session.commit()
    total = (await session.execute(select(func.sum(ItemScore.self_points)))).scalar_one()
    # The column type applies to the aggregate too: ten-thousandths come back as Decimal points.
    assert Decimal(total) == sum(values) == Decimal("2.5833")


async def test_timestamps_are_aware_utc(session: AsyncSession) -> None:
    hanoi = timezone(timedelta(hours=7))
    deadline = datetime(2026, 3, 31, 23, 59, 59, tzinfo=hanoi)
    session.add(Period(year=2026, name="2026", self_deadline=deadline))
    await session.commit()
    session.expunge_all()
    period = (await session.execute(select(Period))).scalar_one()
    assert period.self_deadline == deadline
    assert period.self_deadline is not None and period.self_deadline.tzinfo == UTC
    assert period.created_at.tzinfo == UTC


async def test_naive_datetime_refused(session: AsyncSession) -> None:
    session.add(Period(year=2027, name="x", opens_at=datetime(2027, 1, 1)))
    with pytest.raises(Exception, match="naive"):
        await session.flush()


async def test_unique_unit_code(session: AsyncSession) -> None:
    await _unit(session, "SNV")
    session.add(Unit(code="SNV", name="dup", name_search="dup", unit_type="so"))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_unit_type_and_role_checked(session: AsyncSession) -> None:
    session.add(Unit(code="X", name="x", name_search="x", unit_type="tinh"))
    with pytest.raises(IntegrityError):
        await session.flush()
    await session.rollback()
    person = Person(telegram_id=1)
    session.add(person)
    await session.flush()
    session.add(Role(person_id=person.id, role="king"))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_foreign_keys_enforced(session: AsyncSession) -> None:
    session.add(Role(person_id=424242, role="leader"))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_negative_points_refused(session: AsyncSession) -> None:
    assessment = await _assessment(session)
    session.add(ItemScore(assessment_id=assessment.id, item_code="1.1", self_points=Decimal("-1")))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_one_item_score_per_assessment_and_code(session: AsyncSession) -> None:
    assessment = await _assessment(session)
    session.add(ItemScore(assessment_id=assessment.id, item_code="1.1"))
    await session.flush()
    session.add(ItemScore(assessment_id=assessment.id, item_code="1.1"))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_outbox_key_unique(session: AsyncSession) -> None:
    session.add(Outbox(idempotency_key="k", chat_id=1, kind="t", text="a"))
    await session.flush()
    session.add(Outbox(idempotency_key="k", chat_id=1, kind="t", text="b"))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_assessment_optimistic_lock(db_url: str) -> None:
    engine = make_engine(db_url)
    maker = make_sessionmaker(engine)
    try:
        async with maker() as s:
            await _assessment(s)
            await s.commit()
        async with maker() as first, maker() as second:
            a1 = (await first.execute(select(Assessment))).scalar_one()
            a2 = (await second.execute(select(Assessment))).scalar_one()
            a1.status = "draft"
            await first.commit()
            a2.status = "submitted"
            with pytest.raises(StaleDataError):
                await second.commit()
    finally:
        await engine.dispose()


async def test_sqlite_pragmas(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    engine = make_engine(db_url)
    try:
        async with engine.connect() as c:
            assert (await c.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
            assert (await c.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
    finally:
        await engine.dispose()
