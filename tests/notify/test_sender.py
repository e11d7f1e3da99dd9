"""The sender's other outcomes through the emulator: refused, buttons, documents, blocked twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import make_sessionmaker
from bot.db.models import Outbox, Person
from bot.notify.sender import Sender, SenderConfig
from bot.notify.unreachable import mark_reachable
from bot.sandbox.emulator import Emulator, EmulatorClient
from bot.services.outbox import enqueue
from tests.notify.helpers import make_bot


async def _run(
    session: AsyncSession, emulator: Emulator, *, recover: bool | None = None, limit: float = 30
) -> Sender:
    bot = make_bot(emulator)
    assert session.bind is not None
    config = SenderConfig(report_delay=timedelta(0), recover_on_start=recover)
    sender = Sender(bot, make_sessionmaker(session.bind), config)  # type: ignore[arg-type]
    try:
        await sender.run_until_idle(timeout=limit)
    finally:
        await bot.session.close()
    return sender


async def test_buttons_documents_refusals_and_blocked_chats(
    session: AsyncSession, emulator: Emulator, control: EmulatorClient, tmp_path: Path
) -> None:
    user = await control.create_user("Lan")
    blocker = await control.create_user("Minh")
    await control.block_bot(blocker["id"])
    lan = Person(telegram_id=user["id"], full_name="Lan", language="vi")
    minh = Person(telegram_id=blocker["id"], full_name="Minh", language="vi")
    session.add_all([lan, minh])
    await session.flush()
    lan_id, minh_id = lan.id, minh.id
    report = tmp_path / "bao-cao.pdf"
    report.write_bytes(b"%PDF-1.4 test")
    markup = {"inline_keyboard": [[{"text": "Mở", "callback_data": "open:1"}]]}
    await enqueue(session, lan_id, user["id"], "t", "<b>Xin chào</b>", "k1", payload={"reply_markup": markup})
    await enqueue(session, lan_id, user["id"], "t", "Báo cáo", "k2", payload={"document": str(report)})
    await enqueue(session, None, 999_999_999, "t", "nobody", "k3")  # chat not found: refused, not retried
    await enqueue(session, minh_id, blocker["id"], "t", "one", "k4")
    await enqueue(session, minh_id, blocker["id"], "t", "two", "k5")
    await session.commit()

    sender = await _run(session, emulator)

    messages = await control.transcript(user["id"])
    assert messages[0]["text"] == "Xin chào" and messages[0]["reply_markup"] == markup
    assert messages[1]["document"]["file_name"] == "bao-cao.pdf" and messages[1]["caption"] == "Báo cáo"
    rows = {
        r.idempotency_key: r
        for r in await session.scalars(select(Outbox).execution_options(populate_existing=True))
    }
    assert rows["k1"].status == rows["k2"].status == "sent"
    assert (
        rows["k3"].status == "failed"
        and rows["k3"].attempts == 1
        and "chat not found" in (rows["k3"].last_error or "")
    )
    # the first 403 blocks the chat's other row too, without a second call
    assert rows["k4"].status == rows["k5"].status == "blocked"
    assert (await control.stats())["forbidden"] == 1
    assert sender.stats.as_dict()["blocked"] == 2
    person = await session.get(Person, minh_id, populate_existing=True)
    assert person is not None and person.unreachable and person.unreachable_at is not None
    await mark_reachable(session, minh_id)
    await session.commit()
    assert not (await session.get(Person, minh_id, populate_existing=True)).unreachable  # type: ignore[union-attr]


async def test_claims_left_by_a_crashed_sender_are_sent_once_after_restart(
    session: AsyncSession, emulator: Emulator, control: EmulatorClient
) -> None:
    from datetime import UTC, datetime

    from bot.notify import store

    user = await control.create_user("Hoa")
    for n in range(3):
        await enqueue(session, None, user["id"], "t", f"tin {n}", f"crash-{n}")
    await session.commit()
    # a sender claimed two rows (lease two minutes) and died before sending them
    claimed = await store.claim_due(
        session,
        now=datetime.now(UTC),
        limit=2,
        lease=timedelta(minutes=2),
        worker="dead:1",
        chat_ready=lambda _chat: True,
    )
    assert len(claimed) == 1  # one per chat and claim: the per-chat limit
    # without recovery (several senders on PostgreSQL): the claim is honoured until its lease ends
    with pytest.raises(TimeoutError):
        await _run(session, emulator, recover=False, limit=3)
    assert sorted(m["text"] for m in await control.transcript(user["id"])) == ["tin 1", "tin 2"]
    # with recovery (one sender, the default on SQLite): sent at once, exactly once
    sender = await _run(session, emulator, recover=True)
    assert sorted(m["text"] for m in await control.transcript(user["id"])) == ["tin 0", "tin 1", "tin 2"]
    assert sender.stats.in_doubt_resent == 1
    query = select(Outbox).where(Outbox.idempotency_key == "crash-0")
    row = await session.scalar(query.execution_options(populate_existing=True))
    assert row is not None and row.status == "sent" and row.attempts == 2
    assert row.last_error == "sent again after an unfinished attempt"
