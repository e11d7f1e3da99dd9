"""The database unreachable for 10 s under a running bot (issue 13): PostgreSQL behind a TCP proxy
the test cuts, conversation state in Redis or in the database, the real `python -m bot run` process.

While the database is away every person who writes gets one Vietnamese sentence asking to try
again (nothing is half done); what the bot had confirmed before is still there afterwards; when the
database is back the same process answers and saves again by itself, and the outbox sender and the
schedule resume (the leader lock is taken again). Figures are printed (-s)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.db.migrate import upgrade
from bot.db.models import Outbox, OutboxStatus, Person
from bot.notify.broadcast import enqueue_broadcast
from bot.sandbox.emulator import Emulator
from bot.services.actor import Actor
from tests.bot.harness import BotClient, BotProcess, Seeder, bot_env, register
from tests.bot.officer_driver import Officer
from tests.bot.proxies import TcpCut
from tests.bot.test_scale_out import REDIS_URL, redis_reachable

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

OUTAGE = 10.0
TRY_AGAIN = "Hệ thống đang tạm gián đoạn, thao tác vừa rồi chưa được lưu, vui lòng thử lại sau ít phút."


@pytest.fixture(params=["redis", "database"])
async def setup(
    request: pytest.FixtureRequest, pg_server: Any, tmp_path: Path
) -> AsyncIterator[tuple[Emulator, TcpCut, BotProcess, Seeder]]:
    """The bot with its conversation state in Redis (the scaled-out form) or in the database."""
    state_in_redis = request.param == "redis"
    if state_in_redis and (reason := await redis_reachable()):
        pytest.skip(reason)
    direct = str(pg_server.new_database("outage"))
    await upgrade(direct)
    parsed = make_url(direct)
    proxy = TcpCut(parsed.host or "127.0.0.1", parsed.port or 5432)
    port = await proxy.start()
    via_proxy = parsed.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    token = f"{secrets.randbelow(10**9 - 10**8) + 10**8}:{secrets.token_urlsafe(24)}"
    emulator = Emulator(token=token)
    await emulator.start("127.0.0.1", 0)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    env = bot_env(emulator, via_proxy, evidence, **({"CCHC_REDIS_URL": REDIS_URL} if state_in_redis else {}))
    process = BotProcess(env, tmp_path / "bot.log")
    seed = Seeder(direct)  # the test itself reaches the database directly
    try:
        await process.start()
        yield emulator, proxy, process, seed
    finally:
        code = await process.stop()
        print(f"--- bot (exit {code}) ---\n{process.log_text()[-6000:]}")
        await seed.close()
        await proxy.stop()
        await emulator.stop()


async def _language(seed: Seeder, telegram_id: int) -> str | None:
    async with seed.session() as s:
        return await s.scalar(select(Person.language).where(Person.telegram_id == telegram_id))


async def test_database_away_for_ten_seconds(setup: tuple[Emulator, TcpCut, BotProcess, Seeder]) -> None:
    emulator, proxy, process, seed = setup
    client = BotClient(emulator.url, seed)
    try:
        await seed.unit("SNV", "Sở Nội vụ")
        users = [await register(client, "SNV", "officer") for _ in range(3)]
        people = [Officer(client, u, f"Cán bộ {n}") for n, u in enumerate(users)]
        first = people[0]

        # Confirmed before the outage: first's language is English.
        await first.say("/lang", expect="Chọn ngôn ngữ")
        await first.press("🇬🇧 English", expect="Language changed")
        assert await _language(seed, first.uid) == "en"
        await first.say("/lang", expect="Choose your language")  # the keyboard to press during the outage

        await proxy.cut()
        cut_at = time.monotonic()
        told: list[str] = []
        tries = 0
        while time.monotonic() - cut_at < OUTAGE - 2:
            for person in people[1:]:
                tries += 1
                reply = await person.say("/whoami", expect=lambda m: True)
                told.append(str(reply.get("text")))
            await asyncio.sleep(1.0)
        # A button press while the database is away (first switches back to Vietnamese); without the
        # database the bot cannot know a person's language: the sentence is in Vietnamese, the default.
        tries += 1
        reply = await first.press(
            "🇻🇳 Tiếng Việt", expect=lambda m: "Language changed" not in str(m.get("text"))
        )
        told.append(str(reply.get("text")))
        await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - cut_at)))
        await proxy.restore()
        restored_at = time.monotonic()

        # Back by itself: the same process answers and saves again.
        reply = await people[1].say("/whoami", expect="Vai trò")
        back_after = time.monotonic() - restored_at
        assert await _language(seed, first.uid) == "en"  # the confirmed change is there, the refused one not
        await first.say("/lang", expect="Choose your language")
        await first.press("🇻🇳 Tiếng Việt", expect="Đã đổi ngôn ngữ")
        assert await _language(seed, first.uid) == "vi"

        # The sender and the schedule resume: a message queued now is delivered.
        async with seed.session() as s:
            await enqueue_broadcast(s, Actor.system("test"), "all", "Sau sự cố: hệ thống đã hoạt động lại")

        async def delivered() -> bool:
            async with seed.session() as s:
                statuses = list(await s.scalars(select(Outbox.status).where(Outbox.kind == "broadcast")))
            return bool(statuses) and set(statuses) == {OutboxStatus.SENT.value}

        deadline = time.monotonic() + 30
        while not await delivered():
            assert time.monotonic() < deadline, "the outbox did not resume after the outage"
            await asyncio.sleep(0.2)
        resumed_after = time.monotonic() - restored_at
        log = process.log_text()

        figures = {
            "outage_s": OUTAGE,
            "updates_during_outage": tries,
            "told_to_try_again": sum(t == TRY_AGAIN for t in told),
            "first_answer_after_restore_s": round(back_after, 2),
            "outbox_delivered_after_restore_s": round(resumed_after, 2),
            "schedule_leader_taken": log.count("this process runs the schedule"),
        }
        print("\noutage figures: " + json.dumps(figures, ensure_ascii=False))
        assert told == [TRY_AGAIN] * tries, told  # one sentence each, in Vietnamese, nothing else
        assert process.proc is not None and process.proc.poll() is None  # never restarted
        assert log.count("this process runs the schedule") >= 2  # lost with the database, taken again
    finally:
        await client.close()
