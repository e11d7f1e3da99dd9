"""Ranking a large group: the pure core (every sheet by `compute_sheet`) against SQL aggregation
(`bot.services.ranking_sql`), on a generated province of 3,300 communes × 50 items (2025-xa); and
the group averages of /unit (per field, criterion and sub-criterion, over the ranked units) the same
two ways.

Prints the time of each path (best of `--repeat`), whether both gave the same rows (averages), and
the machine. The core path is the baseline measured in the same run.

    python -m bench.ranking [--units 3300] [--repeat 3] [--postgres postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import insert, select, text

from bench.machine import describe
from bot.criteria import shipped_path
from bot.db.engine import make_engine, make_sessionmaker
from bot.db.migrate import upgrade
from bot.db.models import Assessment, AssessmentStatus, ItemScore, Period, RankingGroup, Unit
from bot.scoring.gaps import group_averages, item_indexes
from bot.scoring.loader import load_criteria_set
from bot.scoring.sheet import Basis
from bot.services.actor import Actor
from bot.services.criteria import store_criteria_set
from bot.services.leader import load_group_sheets
from bot.services.periods import create_period
from bot.services.ranking import rank_period
from bot.services.ranking_sql import item_averages, rank_period_sql
from bot.services.units import UnitRow, upsert_units

SYSTEM = Actor.system("bench")


async def _generate(url: str, units: int, seed: int = 7) -> None:
    """Units of one group, each submitted, every item scored (some N/A, some appraised)."""
    cs = load_criteria_set(shipped_path("2025-xa"))
    leaves = [leaf for _f, _c, leaf in cs.leaves()]
    rng = random.Random(seed)
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = [UnitRow(f"X{n:05d}", f"Xã Số {n:05d}", "xa", "XA", "Xã, phường") for n in range(units)]
            await upsert_units(session, SYSTEM, rows)
            code = (await store_criteria_set(session, SYSTEM, cs)).code
            await create_period(session, SYSTEM, 2025, {"xa": code})
            period = await session.scalar(select(Period).where(Period.year == 2025))
            assert period is not None
            unit_ids = list(await session.scalars(select(Unit.id).order_by(Unit.id)))
            await session.execute(
                insert(Assessment),
                [
                    {"period_id": period.id, "unit_id": uid, "status": AssessmentStatus.APPRAISED.value}
                    for uid in unit_ids
                ],
            )
            aids = list(await session.scalars(select(Assessment.id).where(Assessment.period_id == period.id)))
            batch: list[dict[str, Any]] = []
            for aid in aids:
                quality = rng.uniform(0.4, 1.0)
                for leaf in leaves:
                    share = Decimal(min(100, max(0, round(rng.gauss(quality, 0.2) * 100)))) / 100
                    points = (leaf.max_points * share).quantize(Decimal("0.01"))
                    na = leaf.allow_na and rng.random() < 0.05
                    adjusted = rng.random() < 0.1
                    batch.append(
                        {
                            "assessment_id": aid,
                            "item_code": leaf.code,
                            "self_points": None if na else points,
                            "na_claimed": na,
                            "appraisal1_points": (points / 2).quantize(Decimal("0.01"))
                            if adjusted
                            else points,
                            "appraisal1_status": "na_accepted"
                            if na
                            else ("adjusted" if adjusted else "accepted"),
                        }
                    )
                if len(batch) >= 20_000:
                    await session.execute(insert(ItemScore), batch)
                    batch = []
            if batch:
                await session.execute(insert(ItemScore), batch)
            await session.commit()
        # Statistics, as autovacuum (PostgreSQL) or a maintenance run would have them after an
        # import: without them PostgreSQL plans nested loops and the SQL path takes ~45 s.
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


T = TypeVar("T")
Measured = Callable[[Any, Period, RankingGroup, Basis], Awaitable[T]]


async def _time(url: str, fn: Measured[T], repeat: int) -> tuple[float, T]:
    """Best time of `repeat` calls of `fn` on the XA group (a fresh session each), and its result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                period = await session.scalar(select(Period).where(Period.year == 2025))
                group = await session.scalar(select(RankingGroup).where(RankingGroup.code == "XA"))
                assert period is not None and group is not None
                start = time.perf_counter()
                result = await fn(session, period, group, Basis.APPRAISED)
                best = min(best, time.perf_counter() - start)
        finally:
            await engine.dispose()
    assert result is not None
    return best, result


async def _core_averages(
    session: Any, period: Period, group: RankingGroup, basis: Basis
) -> dict[str, Decimal]:
    sheets = await load_group_sheets(session, period, group.id)
    return group_averages(item_indexes(s) for s in sheets.ranked_sheets(basis))


async def _run(url: str, label: str, units: int, repeat: int) -> None:
    await upgrade(url)
    start = time.perf_counter()
    await _generate(url, units)
    print(f"{label}: generated {units} units × 50 items in {time.perf_counter() - start:.1f} s", flush=True)
    core_s, core_rows = await _time(url, rank_period, repeat)
    sql_s, sql_rows = await _time(url, rank_period_sql, repeat)
    same = "identical" if core_rows == sql_rows else "DIFFERENT"
    print(f"{label}: core (compute_sheet per unit) {core_s:.3f} s | SQL aggregation {sql_s:.3f} s")
    print(f"{label}: speed-up ×{core_s / sql_s:.1f}; rows {same} ({len(core_rows)} units)", flush=True)
    core_s, core_avg = await _time(url, _core_averages, repeat)
    sql_s, sql_avg = await _time(url, item_averages, repeat)
    print(
        f"{label}: group averages per field/criterion/sub-criterion: core {core_s:.3f} s | "
        f"SQL {sql_s:.3f} s; {'identical' if core_avg == sql_avg else 'DIFFERENT'}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ranking", description=__doc__)
    parser.add_argument("--units", type=int, default=3300)
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs per path")
    parser.add_argument("--postgres", metavar="URL", help="also run on this (empty) PostgreSQL database")
    args = parser.parse_args(argv or [])
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite+aiosqlite:///{Path(work) / 'bench.sqlite3'}"
        asyncio.run(_run(url, "SQLite", args.units, args.repeat))
    if args.postgres:
        asyncio.run(_run(args.postgres, "PostgreSQL", args.units, args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(__import__("sys").argv[1:]))
