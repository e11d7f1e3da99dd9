"""Rankings through the scoring core, and the demo province."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.criteria import shipped_path
from bot.db.models import (
    Assessment,
    AuditLog,
    HistoryResult,
    ItemScore,
    Outbox,
    Period,
    Person,
    RankingGroup,
    Role,
    Unit,
)
from bot.scoring.bands import grade
from bot.scoring.loader import load_criteria_set
from bot.scoring.ranking import RankRow
from bot.scoring.sheet import Basis, LeafScore, compute_sheet
from bot.services.demo import PERSONAS, seed_demo
from bot.services.periods import create_period, open_period
from bot.services.ranking import rank_period, ranking
from tests.services.conftest import SYSTEM


async def _setup(session: AsyncSession) -> tuple[Period, RankingGroup, dict[str, Assessment]]:
    await create_period(session, SYSTEM, 2026, {"so": "2025-so", "xa": "2025-xa"})
    await open_period(session, SYSTEM, 2026, now=datetime(2026, 2, 1, tzinfo=UTC))
    period = await session.scalar(select(Period))
    group = await session.scalar(select(RankingGroup).where(RankingGroup.code == "SO"))
    assert period is not None and group is not None
    rows = await session.execute(
        select(Unit.code, Assessment).join(Assessment, Assessment.unit_id == Unit.id)
    )
    return period, group, {code: a for code, a in rows}


async def test_rank_period_uses_the_core(province: AsyncSession) -> None:
    session = province
    period, group, sheets = await _setup(session)
    cs = load_criteria_set(shipped_path("2025-so"))
    leaves = [leaf for _, _, leaf in cs.leaves()]
    # SNV: every item at max on self, one adjusted to 0 by the appraiser; SYT: half the items;
    # STP: a draft with full marks (must not be ranked).
    for code, fraction, status in (("SNV", 1, "appraised"), ("SYT", 2, "submitted"), ("STP", 1, "draft")):
        assessment = sheets[code]
        assessment.status = status
        for position, leaf in enumerate(leaves):
            if position % fraction:
                continue
            item = ItemScore(assessment_id=assessment.id, item_code=leaf.code, self_points=leaf.max_points)
            if code == "SNV":
                adjusted = position == 0
                item.appraisal1_points = Decimal(0) if adjusted else leaf.max_points
                item.appraisal1_status = "adjusted" if adjusted else "accepted"
            session.add(item)
    await session.commit()

    rows = await rank_period(session, period, group, Basis.APPRAISED)
    by_code: dict[str, RankRow] = {r.code: r for r in rows}
    assert [r.code for r in rows if r.ranked] == ["SNV", "SYT"]
    assert by_code["STP"].rank is None and by_code["STP"].reason == "draft"
    # a draft has no result, even with full marks: no index, no class
    assert (by_code["STP"].index, by_code["STP"].band) == (None, None)

    items = list(await session.scalars(select(ItemScore).where(ItemScore.assessment_id == sheets["SNV"].id)))
    expected = compute_sheet(
        cs,
        {
            i.item_code: LeafScore(i.self_points, i.appraisal1_points, i.final_points, i.na_claimed)
            for i in items
        },
        Basis.APPRAISED,
    )
    assert by_code["SNV"].index == expected.index < Decimal(100)
    assert by_code["SNV"].band == grade(expected.index).band
    self_rows = {r.code: r for r in await rank_period(session, period, group, Basis.SELF)}
    assert self_rows["SNV"].index == Decimal(100)

    sheets["SYT"].not_ranked = True
    sheets["SYT"].not_ranked_reason = "thiếu trung thực"
    await session.commit()
    result = await ranking(session, 2026, "SO")
    assert result.source == "period" and result.provisional and result.basis == "appraised"
    syt = next(r for r in result.rows if r.code == "SYT")
    assert syt.rank is None and syt.reason == "not_ranked: thiếu trung thực"
    assert syt.band is None and syt.index is not None  # no class, the score still shown


async def _counts(session: AsyncSession) -> dict[str, int]:
    counts = {}
    for model in (Unit, Person, Role, Assessment, ItemScore, HistoryResult, Outbox, Period):
        counts[model.__name__] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
    return counts


async def test_demo_seed_is_idempotent_and_ranks(session: AsyncSession) -> None:
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    first = await seed_demo(session, now=now)
    assert first.created and first.year == 2026 and first.units == 50
    assert {"appraised", "submitted", "draft", "not_started"} <= set(first.statuses)
    counts = await _counts(session)
    assert counts["Unit"] == 50 and counts["Person"] == len(PERSONAS) and counts["HistoryResult"] == 50
    second = await seed_demo(session, now=now)
    assert not second.created and await _counts(session) == counts
    assert second.statuses == first.statuses

    for group in ("SO", "XA"):
        live = await ranking(session, 2026, group)
        assert any(r.ranked for r in live.rows) and any(not r.ranked for r in live.rows)
        for row in live.rows:
            if row.ranked:
                assert row.index is not None and row.band == grade(row.index).band
            else:
                assert row.band is None
        history = await ranking(session, 2025, group)
        assert history.source == "history" and all(r.rank is not None for r in history.rows)
    not_ranked = [r for r in (await ranking(session, 2026, "SO")).rows if r.reason.startswith("not_ranked")]
    assert [r.code for r in not_ranked] == ["BQLDA"]
    assert await session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == "demo.seed")
    )
