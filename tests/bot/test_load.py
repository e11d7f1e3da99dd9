"""Many officers at once: more updates in flight than the database pool has connections.

Each update holds its session and, for a moment, the FSM storage's; without a cap on updates in
flight, 15+ officers pressing at once left every update holding one connection while waiting for a
second, and the bot stopped answering (found by bench/updates.py). Figures live in the benchmark;
this test only checks that everyone is answered and nobody sees the error sentence.
"""

from __future__ import annotations

import asyncio

from bot.app import App
from bot.db.engine import POOL_OVERFLOW, POOL_SIZE
from tests.bot.harness import BotClient, Seeder, register
from tests.bot.officer_driver import Officer, assessment_of

OFFICERS = POOL_SIZE + POOL_OVERFLOW + 4  # more than the pool could serve two connections each


async def test_more_officers_than_connections_are_all_answered(
    bot: App, client: BotClient, seed: Seeder
) -> None:
    codes = [f"S{n:02d}" for n in range(OFFICERS)]
    for code in codes:
        await seed.unit(code, f"Sở thử nghiệm {code}")
    await seed.period(criteria={"so": await seed.criteria("2018-so.yaml")})
    officers = [Officer(client, await register(client, code, "officer"), code) for code in codes]

    async def walk(officer: Officer, code: str) -> None:
        await officer.say("/score", expect="1. ")
        aid = (await assessment_of(seed, code)).id
        await officer.press(f"of:{aid}:1", expect="1.1")
        await officer.press(f"oc:{aid}:1.1", expect="1.1.1")
        await officer.press(f"oi:{aid}:1.1.1", expect="Ban hành kế hoạch")
        await officer.press(f"oa:{aid}:1.1.1:0", expect="Đã lưu")

    await asyncio.gather(*(walk(o, code) for o, code in zip(officers, codes, strict=True)))
    for officer in officers:
        assert not any("Đã có lỗi" in text for text in await client.texts(officer.user))
