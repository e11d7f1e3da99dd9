"""Update ids after a long quiet time (issue 13, defect 6): Telegram may start the ids again after a
week without updates. The marks of handled ids are pruned by age, and an id seen long ago is a new
update, in the running process (its memory) as well as in the table."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

import bot.middlewares.db as db_middleware
from bot.app import App
from bot.db.models import ProcessedUpdate
from bot.middlewares.db import KEEP_PROCESSED, prune_processed
from bot.sandbox.emulator import Emulator
from tests.bot.harness import BotClient, Seeder, register

FIRST_ID = 100_000_001  # where the emulator, like a fresh Telegram sequence, starts


async def _marks(seed: Seeder) -> int:
    async with seed.session() as s:
        return int(await s.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0)


async def test_a_restarted_id_sequence_is_handled_after_a_quiet_week(
    bot: App, client: BotClient, seed: Seeder, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed.unit("SNV", "Sở Nội vụ")
    user = await register(client, "SNV", "officer")
    assert "Sở Nội vụ" in (await client.say(user, "/whoami"))["text"]
    for _ in range(100):  # the reply goes out before the update's commit marks it
        if (marked := await _marks(seed)) == 2:  # /start and /whoami
            break
        await asyncio.sleep(0.05)
    assert marked == 2

    # Within the window nothing is pruned.
    async with seed.session() as s:
        assert await prune_processed(s) == 0
    assert await _marks(seed) == marked

    # A week without updates; the hourly prune runs; Telegram starts the ids again.
    later = db_middleware.utcnow() + timedelta(days=8)
    monkeypatch.setattr(db_middleware, "utcnow", lambda: later)
    async with seed.session() as s:
        assert await prune_processed(s, later) == marked
    emulator.bot.next_update_id = FIRST_ID
    reply = await client.say(user, "/whoami", timeout=5)  # the id FIRST_ID was handled a week ago
    assert "Sở Nội vụ" in reply["text"]

    # Another quiet week, and this time the prune has not run yet: the old mark does not drop it.
    monkeypatch.setattr(db_middleware, "utcnow", lambda: later + timedelta(days=8))
    emulator.bot.next_update_id = FIRST_ID
    reply = await client.say(user, "/help", timeout=5)
    assert "/whoami" in reply["text"]


async def test_prune_keeps_what_a_redelivery_could_still_bring(seed: Seeder) -> None:
    now = db_middleware.utcnow()
    async with seed.session() as s:
        s.add_all(
            [
                ProcessedUpdate(update_id=1, at=now - KEEP_PROCESSED - timedelta(minutes=1)),
                ProcessedUpdate(update_id=2, at=now - timedelta(days=1)),  # Telegram re-delivers for 24 h
                ProcessedUpdate(update_id=3, at=now),
            ]
        )
        await s.commit()
        assert await prune_processed(s, now) == 1
        ids = sorted(await s.scalars(select(ProcessedUpdate.update_id)))
    assert ids == [2, 3]
    assert isinstance(now, datetime)
