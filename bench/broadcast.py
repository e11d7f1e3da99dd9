"""A broadcast to 500 people (5% of whom blocked the bot) through the outbox sender and the emulator.

Prints, per scenario: messages delivered, blocked, seconds, messages/s, 429s received and honoured.
Baseline in the same run: a bare aiogram loop sending the same messages with the emulator's flood
limits off (the emulator's and aiogram's own speed, no database, no limits).

    python -m bench.broadcast [--people 500] [--blocked-every 20]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiogram.exceptions import TelegramForbiddenError

from bench.machine import describe
from bot.db.engine import make_engine, make_sessionmaker
from bot.db.migrate import upgrade
from bot.notify.broadcast import broadcast_report, enqueue_broadcast
from bot.notify.sender import Sender, SenderConfig
from bot.sandbox.emulator import Emulator, EmulatorClient
from bot.services.actor import Actor
from tests.notify.helpers import make_bot, seed_crowd

TEXT = "Thông báo: hạn nộp báo cáo tự đánh giá Chỉ số CCHC là ngày 31/3."


async def _scenario(
    template: Path, work: Path, name: str, people: int, blocked_every: int, flood: dict[str, Any] | None
) -> str:
    db = work / f"{name}.sqlite3"
    shutil.copyfile(template, db)
    url = f"sqlite+aiosqlite:///{db}"
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    emulator = Emulator()
    await emulator.start("127.0.0.1", 0)
    bot = make_bot(emulator)
    try:
        async with EmulatorClient(emulator.url) as control:
            async with sessionmaker() as session:
                crowd = await seed_crowd(session, control, people, block_every=blocked_every)
                if flood is None:
                    return await _baseline(bot, list(crowd.officers.values()))
                result = await enqueue_broadcast(session, Actor.system("bench"), "group:SO", TEXT)
            await control.set_flood_limits(True, **flood)
            await control.reset_stats()
            sender = Sender(bot, sessionmaker, SenderConfig(report_delay=timedelta(seconds=1)))
            started = time.monotonic()
            stats = await sender.run_until_idle(timeout=600)
            seconds = time.monotonic() - started
            emulated = await control.stats()
            async with sessionmaker() as session:
                report = await broadcast_report(session, result.key)
        limits = ", ".join(f"{k}={v}" for k, v in flood.items()) or "Telegram's published limits"
        return (
            f"outbox sender, emulator flood limits on ({limits}): {report.sent} delivered, "
            f"{report.blocked} blocked, {report.failed} failed in {seconds:.1f} s = "
            f"{report.sent / seconds:.1f} msg/s; 429s received {emulated['too_many_requests']} "
            f"(sender counted {stats.too_many_requests}), honoured {stats.retry_after_honoured}, "
            f"violated {stats.retry_after_violated}; {stats.retry_after_seconds:.0f} s of retry_after; "
            f"{emulated['sent_messages'] - report.sent} secretariat report(s)"
        )
    finally:
        await bot.session.close()
        await emulator.stop()
        await engine.dispose()


async def _baseline(bot: Any, chats: list[int]) -> str:
    started = time.monotonic()
    sent = blocked = 0
    for chat in chats:
        try:
            await bot.send_message(chat, TEXT)
            sent += 1
        except TelegramForbiddenError:
            blocked += 1
    seconds = time.monotonic() - started
    return (
        f"baseline, bare aiogram loop, no database, flood limits off: {sent} delivered, {blocked} blocked "
        f"in {seconds:.1f} s = {sent / seconds:.1f} msg/s"
    )


async def _run(people: int, blocked_every: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = work / "template.sqlite3"
        await upgrade(f"sqlite+aiosqlite:///{template}")
        print(f"machine: {describe()}")
        print(f"{people} recipients, every {blocked_every}th has blocked the bot; SQLite")
        for name, flood in (("baseline", None), ("telegram", {}), ("strict", {"global_per_second": 25})):
            print("  " + await _scenario(template, work, name, people, blocked_every, flood), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast")
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--blocked-every", type=int, default=20)
    args = parser.parse_args(argv)
    asyncio.run(_run(args.people, args.blocked_every))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
