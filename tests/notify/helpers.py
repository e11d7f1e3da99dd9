"""Seeding for the notification tests: people in the database and as users of the emulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Person, RankingGroup, Role, RoleName, Unit
from bot.sandbox.emulator import Emulator, EmulatorClient


def make_bot(emulator: Emulator) -> Bot:
    return Bot(
        emulator.token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


@dataclass
class Crowd:
    group_code: str
    unit_ids: list[int] = field(default_factory=list)
    officers: dict[int, int] = field(default_factory=dict)  # person id → telegram id
    secretariat: dict[int, int] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)  # person ids whose user blocked the bot


async def add_person(
    session: AsyncSession,
    client: EmulatorClient,
    name: str,
    role: str,
    *,
    unit_id: int | None = None,
    agency_id: int | None = None,
    language: str = "vi",
) -> Person:
    user: dict[str, Any] = await client.create_user(name, language_code=language)
    person = Person(telegram_id=user["id"], full_name=name, language=language)
    session.add(person)
    await session.flush()
    session.add(Role(person_id=person.id, role=role, unit_id=unit_id, agency_id=agency_id))
    return person


async def seed_crowd(
    session: AsyncSession, client: EmulatorClient, people: int, *, units: int = 10, block_every: int = 20
) -> Crowd:
    """`people` officers spread over `units` units of group SO, two secretariat people; every
    `block_every`-th officer has blocked the bot in the emulator (the database does not know)."""
    group = RankingGroup(code="SO", name="Sở, ban, ngành")
    session.add(group)
    await session.flush()
    crowd = Crowd(group_code=group.code)
    for n in range(units):
        unit = Unit(
            code=f"U{n:02}", name=f"Sở số {n}", name_search=f"so so {n}", unit_type="so", group_id=group.id
        )
        session.add(unit)
        await session.flush()
        crowd.unit_ids.append(unit.id)
    for n in range(2):
        person = await add_person(session, client, f"Thư ký {n}", RoleName.SECRETARIAT.value)
        crowd.secretariat[person.id] = person.telegram_id
    for n in range(people):
        unit_id = crowd.unit_ids[n % units]
        person = await add_person(session, client, f"Cán bộ {n:03}", RoleName.OFFICER.value, unit_id=unit_id)
        crowd.officers[person.id] = person.telegram_id
        if block_every and n % block_every == block_every - 1:
            await client.block_bot(person.telegram_id)
            crowd.blocked.add(person.id)
    await session.commit()
    return crowd
