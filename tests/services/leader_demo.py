"""The demo province (`cchc-bot demo seed`) as a test fixture: seeded once per test session into a
SQLite file at a fixed date, copied for every test. Import the fixtures where needed:

    from tests.services.leader_demo import demo_template, demo_url  # noqa: F401
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import make_engine, make_sessionmaker
from bot.db.models import Unit
from bot.services.actor import Actor, RoleKey
from bot.services.demo import seed_demo

# Seeded "now" (stage deadlines are relative to it, so the running bot's scheduler finds the period
# as the demo describes it); the year is the period's year.
DEMO_NOW = datetime.now(UTC).replace(microsecond=0)
DEMO_YEAR = DEMO_NOW.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).year


async def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            await seed_demo(session, now=DEMO_NOW)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("leader-demo") / "demo.sqlite3"
    shutil.copyfile(sqlite_template, path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _seed(f"sqlite+aiosqlite:///{path}")).result()
    return path


@pytest.fixture
def demo_url(demo_template: Path, tmp_path: Path) -> str:
    """A fresh copy of the seeded demo province."""
    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(demo_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def demo_db(demo_url: str) -> AsyncIterator[AsyncSession]:
    """A session on a fresh copy of the demo province."""
    engine = make_engine(demo_url)
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


def person(*roles: str, unit_id: int | None = None, agency_id: int | None = None) -> Actor:
    return Actor(
        person_id=None,
        label="test",
        roles=frozenset(
            RoleKey(r, unit_id if r in ("officer", "unit_head") else None, agency_id) for r in roles
        ),
    )


LEADER = person("leader")
SECRETARIAT = person("secretariat")


async def unit_id(session: AsyncSession, code: str) -> int:
    found = await session.scalar(select(Unit.id).where(Unit.code == code))
    assert found is not None, code
    return int(found)
