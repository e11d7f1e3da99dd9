"""A broadcast to 500 people through the emulator with its flood limits on and 5% of them blocked."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import make_sessionmaker
from bot.db.models import Outbox, OutboxStatus, Person
from bot.notify.broadcast import broadcast_report, enqueue_broadcast, select_audience
from bot.notify.sender import Sender, SenderConfig
from bot.notify.unreachable import REPORT_KIND
from bot.sandbox.emulator import Emulator, EmulatorClient
from bot.services.actor import Actor, RoleKey
from tests.notify.helpers import make_bot, seed_crowd

ROOT = Path(__file__).resolve().parents[2]
# Telegram stricter than its published 30/s, so the sender (30/s) surely meets 429s, even on a slow box.
TELEGRAM_RATE = 20
TEXT = "Hạn nộp báo cáo tự đánh giá là 31/3 <đúng hạn> & đầy đủ"


async def test_broadcast_500_with_flood_limits_and_blocked(
    session: AsyncSession, emulator: Emulator, control: EmulatorClient
) -> None:
    crowd = await seed_crowd(session, control, 500, block_every=20)
    assert len(crowd.blocked) == 25
    secretary_id = next(iter(crowd.secretariat))
    actor = Actor(secretary_id, "Thư ký 0", frozenset({RoleKey("secretariat")}))
    audience = await select_audience(session, None, f"group:{crowd.group_code}")
    assert {p.id for p in audience} == set(crowd.officers)

    result = await enqueue_broadcast(session, actor, f"group:{crowd.group_code}", TEXT)
    assert result.recipients == 500
    await control.set_flood_limits(True, global_per_second=TELEGRAM_RATE)
    await control.reset_stats()

    bot = make_bot(emulator)
    assert session.bind is not None
    sessionmaker = make_sessionmaker(session.bind)  # type: ignore[arg-type]
    sender = Sender(bot, sessionmaker, SenderConfig(report_delay=timedelta(seconds=1)))
    started = time.monotonic()
    try:
        stats = await sender.run_until_idle(timeout=120)
    finally:
        await bot.session.close()
    seconds = time.monotonic() - started
    emulated = await control.stats()

    # every reachable person got the message exactly once, the blocked ones nothing
    escaped = "Hạn nộp báo cáo tự đánh giá là 31/3 <đúng hạn> & đầy đủ"
    for person_id, chat_id in crowd.officers.items():
        texts = [m.get("text", "") for m in await control.transcript(chat_id)]
        if person_id in crowd.blocked:
            assert texts == [], person_id
        else:
            assert len(texts) == 1 and escaped in texts[0], (person_id, texts)

    # blocked ones recorded on the person and the outbox row
    session.expire_all()
    unreachable = set(await session.scalars(select(Person.id).where(Person.unreachable.is_(True))))
    assert unreachable == crowd.blocked
    report = await broadcast_report(session, result.key)
    assert (report.sent, report.blocked, report.failed, report.pending) == (475, 25, 0, 0)
    blocked_rows = set(
        await session.scalars(
            select(Outbox.person_id).where(
                Outbox.kind == "broadcast", Outbox.status == OutboxStatus.BLOCKED.value
            )
        )
    )
    assert blocked_rows == crowd.blocked

    # no 429 left unhandled: each one counted, waited out, and the retry succeeded
    assert emulated["too_many_requests"] > 0
    assert stats.too_many_requests == emulated["too_many_requests"]
    assert stats.retry_after_honoured == stats.too_many_requests
    assert stats.retry_after_violated == 0

    # the secretariat was told, each blocked person once per secretary
    reports = list(await session.scalars(select(Outbox).where(Outbox.kind == REPORT_KIND)))
    assert all(r.status == OutboxStatus.SENT.value for r in reports)
    for secretary, chat_id in crowd.secretariat.items():
        mine = [r for r in reports if r.person_id == secretary]
        covered = [pid for r in mine for pid in (r.payload or {})["person_ids"]]
        assert sorted(covered) == sorted(crowd.blocked)
        texts = [m.get("text", "") for m in await control.transcript(chat_id)]
        assert len(texts) == len(mine)
        assert all("Cán bộ" in t and "chặn" in t for t in texts), texts
    assert emulated["sent_messages"] == 475 + len(reports)

    figures = (
        f"broadcast: {result.recipients} recipients, {report.sent} delivered, {report.blocked} blocked, "
        f"{report.failed} failed, {len(reports)} secretariat report(s); {seconds:.1f} s "
        f"({report.sent / seconds:.1f} msg/s); 429s received {stats.too_many_requests}, honoured "
        f"{stats.retry_after_honoured}, waited {stats.retry_after_seconds:.0f} s in total; final rate "
        f"{sender.limiter.rate:.1f}/s; emulator limits: {TELEGRAM_RATE}/s overall, 1/s per chat "
        f"[{session.bind.dialect.name}]"
    )
    print("\n" + figures)
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    with (out / "broadcast_figures.txt").open("a", encoding="utf-8") as fp:
        fp.write(figures + "\n")
