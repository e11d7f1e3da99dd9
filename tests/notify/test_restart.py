"""The sender is SIGKILLed while the outbox is half sent, then restarted: no loss, no repeat."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Outbox, OutboxStatus
from bot.notify.broadcast import enqueue_broadcast
from bot.sandbox.emulator import Emulator, EmulatorClient
from bot.services.actor import Actor
from tests.notify.helpers import seed_crowd

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 60
KILL_AFTER = 25


def _command(emulator: Emulator, db_url: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bot.notify.sender",
        "--database-url",
        db_url,
        "--api",
        emulator.url,
        "--token",
        emulator.token,
        "--rate",
        "10",
        "--concurrency",
        "1",
        "--progress",
        "--recover",
        *extra,
    ]


async def _spawn(emulator: Emulator, db_url: str, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *_command(emulator, db_url, *extra),
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_killed_mid_broadcast_then_restarted_no_loss_no_repeat(
    session: AsyncSession, emulator: Emulator, control: EmulatorClient, db_url: str
) -> None:
    crowd = await seed_crowd(session, control, PEOPLE, units=3, block_every=0)
    await control.set_flood_limits(True)
    result = await enqueue_broadcast(session, Actor.system("test"), f"group:{crowd.group_code}", "Kiểm tra")
    assert result.recipients == PEOPLE

    first = await _spawn(emulator, db_url)
    assert first.stdout is not None
    sent_lines = 0
    output: list[str] = []
    try:
        while sent_lines < KILL_AFTER:
            line = (await asyncio.wait_for(first.stdout.readline(), timeout=30)).decode()
            assert line, "sender exited early:\n" + "".join(output)
            output.append(line)
            sent_lines += line.startswith("sent ")
        first.send_signal(signal.SIGKILL)
    finally:
        if first.returncode is None:
            first.kill()
        await first.wait()
    assert first.returncode == -signal.SIGKILL

    delivered = {pid: len(await control.transcript(chat)) for pid, chat in crowd.officers.items()}
    assert KILL_AFTER <= sum(delivered.values()) < PEOPLE  # half sent
    session.expire_all()
    pending = await session.scalar(select(func.count()).where(Outbox.status == OutboxStatus.PENDING.value))
    assert pending is not None and pending > 0

    second = await _spawn(emulator, db_url, "--until-idle")
    out, _ = await asyncio.wait_for(second.communicate(), timeout=60)
    assert second.returncode == 0, out.decode()
    stats = out.decode().strip().splitlines()[-1]
    assert stats.startswith("stats "), out.decode()

    # no loss, no repeat: every chat has exactly one message, every row is sent
    for person_id, chat_id in crowd.officers.items():
        texts = [m.get("text", "") for m in await control.transcript(chat_id)]
        assert len(texts) == 1 and "Kiểm tra" in texts[0], (person_id, texts)
    session.expire_all()
    statuses = list(await session.scalars(select(Outbox.status).where(Outbox.kind == "broadcast")))
    assert statuses == [OutboxStatus.SENT.value] * PEOPLE
    emulated = await control.stats()
    assert emulated["sent_messages"] == PEOPLE
    print(f"\nkilled after {sent_lines} sends; restart: {stats}")
