"""Helpers for service tests: sample criteria sets stored, units, people with roles."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.criteria import shipped_path
from bot.db.models import Person, Role
from bot.scoring.loader import load_criteria_set
from bot.services.actor import Actor, actor_for
from bot.services.criteria import store_criteria_set
from bot.services.units import UnitRow, upsert_units

SYSTEM = Actor.system("test")


async def person_with(
    session: AsyncSession,
    telegram_id: int,
    role: str,
    unit_id: int | None = None,
    agency_id: int | None = None,
) -> Actor:
    person = Person(telegram_id=telegram_id, full_name=f"P{telegram_id}")
    session.add(person)
    await session.flush()
    row = Role(person_id=person.id, role=role, unit_id=unit_id, agency_id=agency_id)
    session.add(row)
    await session.commit()
    return actor_for(person, [row])


@pytest.fixture
async def province(session: AsyncSession) -> AsyncSession:
    """Two 2025 sample sets stored and four units in two groups."""
    for code in ("2025-so", "2025-xa"):
        await store_criteria_set(session, SYSTEM, load_criteria_set(shipped_path(code)))
    await upsert_units(
        session,
        SYSTEM,
        [
            UnitRow("SNV", "Sở Nội vụ", "so", "SO"),
            UnitRow("SYT", "Sở Y tế", "so", "SO"),
            UnitRow("STP", "Sở Tư pháp", "so", "SO"),
            UnitRow("X-TL", "Xã Tân Lập", "xa", "XA"),
        ],
    )
    return session


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
