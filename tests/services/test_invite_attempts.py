"""Failed invite codes are limited per person and logged (issue 13, defect 8).

Five unknown codes within ten minutes, then even a valid code is refused with one sentence telling
when to try again; every refusal is in the audit log; after the window the valid code works, and
other people are never slowed down by someone else's guesses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditLog, Invite, Person
from bot.services.errors import ServiceError
from bot.services.invites import ATTEMPT_WINDOW, MAX_FAILED_ATTEMPTS, create_invite, redeem_invite
from bot.ui.errors import error_text
from tests.services.cycle_seed import SYSTEM

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
GUESSER = 700_100


async def _refusal(session: AsyncSession, telegram_id: int, code: str, now: datetime) -> ServiceError:
    with pytest.raises(ServiceError) as refused:
        await redeem_invite(session, telegram_id, code, full_name="Người đoán mã", now=now)
    return refused.value


async def test_guessing_is_limited_logged_and_the_valid_code_works_later(session: AsyncSession) -> None:
    invite = await create_invite(session, SYSTEM, "leader", max_uses=3, days=30, now=T0)
    for n in range(MAX_FAILED_ATTEMPTS):
        refusal = await _refusal(session, GUESSER, f"guess{n:04d}", T0 + timedelta(seconds=n))
        assert refusal.code == "invite_unknown"

    # The next try within the window is refused even with the right code: nothing is created.
    later = T0 + timedelta(minutes=4)
    throttled = await _refusal(session, GUESSER, invite.code, later)
    assert throttled.code == "invite_throttled"
    assert throttled.params["minutes"] == 6  # until ten minutes after the first failure
    sentence = error_text(throttled, "vi")
    assert "thử lại sau 6 phút" in sentence and sentence.count(".") == 1, sentence
    assert "try again in 6 minutes" in error_text(throttled, "en")
    assert await session.scalar(select(Person).where(Person.telegram_id == GUESSER)) is None
    session.expire_all()
    assert (await session.scalar(select(Invite.uses).where(Invite.code == invite.code))) == 0

    # Someone else is not slowed down by it.
    other = await redeem_invite(session, 700_200, invite.code, full_name="Lãnh đạo", now=later)
    assert other.new_person

    # Every refusal is in the audit log, with who tried and why (never the whole code).
    rows = list(
        await session.scalars(
            select(AuditLog).where(AuditLog.entity == "telegram_user").order_by(AuditLog.id)
        )
    )
    assert [r.action for r in rows] == ["invite.refused"] * MAX_FAILED_ATTEMPTS + ["invite.throttled"]
    assert {r.entity_id for r in rows} == {str(GUESSER)}
    assert rows[0].after == {"reason": "invite_unknown", "code": "gues…"}
    assert all(invite.code not in str(r.after) for r in rows)

    # After the window the valid code works for the guesser too.
    done = await redeem_invite(
        session, GUESSER, invite.code, full_name="Người đoán mã", now=T0 + ATTEMPT_WINDOW
    )
    assert done.new_role


async def test_expired_or_used_up_codes_are_logged_but_not_counted_as_guesses(session: AsyncSession) -> None:
    expired = await create_invite(session, SYSTEM, "leader", days=1, now=T0 - timedelta(days=5))
    for n in range(MAX_FAILED_ATTEMPTS + 2):
        refusal = await _refusal(session, GUESSER, expired.code, T0 + timedelta(seconds=n))
        assert refusal.code == "invite_expired"  # a real code someone was sent: never throttled
    fresh = await create_invite(session, SYSTEM, "leader", now=T0)
    assert (await redeem_invite(session, GUESSER, fresh.code, now=T0 + timedelta(minutes=1))).new_person
    actions = list(await session.scalars(select(AuditLog.action).where(AuditLog.entity == "telegram_user")))
    assert actions == ["invite.refused"] * (MAX_FAILED_ATTEMPTS + 2)
