"""Required texts are checked after removing what nobody can see (issue 13, defect 7).

A lone zero-width space (or joiner, BOM, word joiner, NBSP, a Hangul filler…) looks like an empty
message on a phone: it is refused like an empty one, with the same sentence, and nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditLog, ItemScore, Outbox, Period, PeriodStatus
from bot.notify.broadcast import enqueue_broadcast
from bot.services import appraisal, explanation
from bot.services import assessment as officer
from bot.services.cycle import set_not_ranked
from bot.services.errors import ServiceError
from bot.text import visible
from tests.officer_seed import seed
from tests.services.cycle_seed import SYSTEM, World, world

BLANKS = [
    "\u200b",  # zero-width space
    "\u200c\u200d",  # zero-width non-joiner, joiner
    "\ufeff",  # byte order mark
    "\u2060 \u00a0",  # word joiner, space, no-break space
    "\u3164",  # Hangul filler (shows as nothing)
    "\u2800\u200e",  # braille blank, left-to-right mark
    " \u00ad\t\u202f\n",  # soft hyphen, narrow no-break space, tab, newline
]


def test_visible_keeps_text_and_drops_the_invisible_edges() -> None:
    for blank in BLANKS:
        assert visible(blank) == ""
    assert visible("\u200b Không có đơn vị trực thuộc \ufeff") == "Không có đơn vị trực thuộc"
    assert visible("👨\u200d👩\u200d👧 gia đình") == "👨\u200d👩\u200d👧 gia đình"  # joiners inside stay


async def _changes(session: AsyncSession) -> tuple[int, int]:
    session.expire_all()
    audit = await session.scalar(select(func.count()).select_from(AuditLog))
    outbox = await session.scalar(select(func.count()).select_from(Outbox))
    return int(audit or 0), int(outbox or 0)


async def _refused(session: AsyncSession, code: str, call: object) -> None:
    before = await _changes(session)
    for blank in BLANKS:
        with pytest.raises(ServiceError) as refusal:
            await call(blank)  # type: ignore[operator]
        assert refusal.value.code == code, (blank, refusal.value)
    assert await _changes(session) == before


async def test_na_reason_and_explanation(session: AsyncSession) -> None:
    s = await seed(session)
    sheet = await officer.open_sheet(session, s.officer)
    aid = sheet.assessment.id

    async def na(text: str) -> object:
        return await officer.claim_na(session, s.officer, aid, "1.1.3", text)

    await _refused(session, "reason_required", na)
    item = await session.scalar(select(ItemScore).where(ItemScore.item_code == "1.1.3"))
    assert item is None or not item.na_claimed

    # An explanation of points without evidence: invisible text counts as none.
    await officer.save_answer(session, s.officer, aid, "1.2", "90%")
    state = await officer.set_explanation(session, s.officer, aid, "1.2", "\u200b\u2060")
    assert state.explanation is None and state.needs_explanation


async def _appraisal_world(session: AsyncSession) -> World:
    w = await world(session)
    period = await session.get(Period, w.base.period.id)
    assert period is not None
    period.status = PeriodStatus.APPRAISAL.value
    period.appraisal_deadline = datetime.now(UTC) + timedelta(days=5)
    await session.commit()
    return w


async def test_appraisal_reasons_notes_and_the_units_reply(session: AsyncSession) -> None:
    w = await _appraisal_world(session)
    a = w.base.appraiser

    async def adjust(text: str) -> object:
        return await appraisal.adjust(session, a, w.aid, "1.1.2", "50/50", text)

    async def supplement(text: str) -> object:
        return await appraisal.request_supplement(session, a, w.aid, "1.1.1", text)

    await _refused(session, "reason_required", adjust)
    await _refused(session, "note_required", supplement)

    await appraisal.request_supplement(session, a, w.aid, "1.1.1", "Bổ sung kế hoạch")

    async def reply(text: str) -> object:
        return await explanation.save_reply(session, w.base.officer, w.aid, "1.1.1", text)

    await _refused(session, "reply_required", reply)


async def test_secretariat_texts(session: AsyncSession) -> None:
    w = await world(session)
    year = w.base.period.year

    async def broadcast(text: str) -> object:
        return await enqueue_broadcast(session, w.secretariat, "all", text)

    async def not_ranked(text: str) -> object:
        return await set_not_ranked(session, SYSTEM, year, "SNV", text)

    await _refused(session, "bad_value", broadcast)
    await _refused(session, "reason_required", not_ranked)
