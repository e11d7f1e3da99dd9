"""The sender's side of the outbox table: claim due rows with a lease, then record each result.

A row is claimed by pushing its `next_attempt_at` forward by the lease, counting the attempt and
writing an "in flight" marker into `last_error`, all committed *before* the Bot API call; the result
(sent / retry / failed / blocked) is committed right after the call returns. So the only state that
survives a crash between the two commits is "pending, in flight" — a message Telegram may or may not
have accepted ("in doubt"). Telegram has no idempotency key, so nobody can tell. We re-send in-doubt
rows (at-least-once): a duplicate reminder is a nuisance, a lost deadline reminder costs a unit its
score. The window is one HTTP response plus one small commit per in-flight message; rows that were
merely claimed but not yet sent are re-sent without any duplicate.

On PostgreSQL the claim selects with FOR UPDATE SKIP LOCKED so several senders never claim the same
row; the lease (longer than any send) keeps other processes off it after the claim commits. On
SQLite there is one sender process, which may release its own expired claims at start-up at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Outbox, OutboxStatus

IN_FLIGHT = "in flight"


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    person_id: int | None
    chat_id: int
    kind: str
    text: str
    payload: dict[str, Any] | None
    attempts: int  # including this one
    in_doubt: bool  # a previous claim never got its result recorded (crash): may be a duplicate
    lease_until: datetime


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    worker: str,
    chat_ready: Callable[[int], bool],
    exclude: set[int] | frozenset[int] = frozenset(),
) -> list[Claimed]:
    """Claim up to `limit` due rows, at most one per chat and only chats the limiter allows now.
    Commits the claim."""
    query = (
        select(Outbox)
        .where(Outbox.status == OutboxStatus.PENDING.value, Outbox.next_attempt_at <= now)
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(limit * 4)
    )
    if exclude:
        query = query.where(Outbox.id.not_in(exclude))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(await session.scalars(query))
    chosen: list[Outbox] = []
    chats: set[int] = set()
    for row in rows:
        if len(chosen) >= limit:
            break
        if row.chat_id in chats or not chat_ready(row.chat_id):
            continue
        chats.add(row.chat_id)
        chosen.append(row)
    lease_until = now + lease
    claimed: list[Claimed] = []
    for row in chosen:
        in_doubt = (row.last_error or "").startswith(IN_FLIGHT)
        row.attempts += 1
        row.next_attempt_at = lease_until
        row.last_error = f"{IN_FLIGHT} since {now.isoformat()} ({worker})"
        claimed.append(
            Claimed(
                id=row.id,
                key=row.idempotency_key,
                person_id=row.person_id,
                chat_id=row.chat_id,
                kind=row.kind,
                text=row.text,
                payload=row.payload,
                attempts=row.attempts,
                in_doubt=in_doubt,
                lease_until=lease_until,
            )
        )
    await session.commit()
    return claimed


async def release_in_flight(session: AsyncSession, now: datetime) -> int:
    """Make every in-flight claim due now (single-process start-up after a crash). Commits."""
    result = await session.execute(
        update(Outbox)
        .where(Outbox.status == OutboxStatus.PENDING.value, Outbox.last_error.like(f"{IN_FLIGHT}%"))
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def next_due_at(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(Outbox.next_attempt_at)
        .where(Outbox.status == OutboxStatus.PENDING.value)
        .order_by(Outbox.next_attempt_at)
        .limit(1)
    )


async def _set(session: AsyncSession, outbox_id: int, **values: Any) -> None:
    await session.execute(
        update(Outbox)
        .where(Outbox.id == outbox_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def mark_sent(session: AsyncSession, outbox_id: int, now: datetime, note: str | None = None) -> None:
    await _set(session, outbox_id, status=OutboxStatus.SENT.value, sent_at=now, last_error=note)


async def mark_retry(
    session: AsyncSession, outbox_id: int, when: datetime, error: str, *, uncount: bool = False
) -> None:
    """Back to pending at `when`. `uncount` gives the attempt back (a 429 is not the message's fault)."""
    values: dict[str, Any] = {"next_attempt_at": when, "last_error": error[:1000]}
    if uncount:
        values["attempts"] = Outbox.attempts - 1
    await _set(session, outbox_id, status=OutboxStatus.PENDING.value, **values)


async def mark_failed(session: AsyncSession, outbox_id: int, error: str) -> None:
    await _set(session, outbox_id, status=OutboxStatus.FAILED.value, last_error=error[:1000])


async def release(session: AsyncSession, outbox_id: int, now: datetime) -> None:
    """Give a claimed, unsent row back (its lease would not cover the send any more)."""
    await _set(session, outbox_id, next_attempt_at=now, last_error=None, attempts=Outbox.attempts - 1)


async def change_chat(session: AsyncSession, outbox_id: int, chat_id: int, now: datetime) -> None:
    """A group became a supergroup: send there, at once, without spending an attempt."""
    await _set(
        session,
        outbox_id,
        chat_id=chat_id,
        next_attempt_at=now,
        last_error="chat migrated",
        attempts=Outbox.attempts - 1,
    )


async def mark_chat_blocked(session: AsyncSession, outbox_id: int, chat_id: int, error: str) -> list[int]:
    """This row and every other pending row to the same chat: blocked (saves a 403 each).
    Returns the ids of the other rows."""
    await _set(session, outbox_id, status=OutboxStatus.BLOCKED.value, last_error=error[:1000])
    others = list(
        await session.scalars(
            select(Outbox.id).where(Outbox.chat_id == chat_id, Outbox.status == OutboxStatus.PENDING.value)
        )
    )
    if others:
        await session.execute(
            update(Outbox)
            .where(Outbox.id.in_(others))
            .values(status=OutboxStatus.BLOCKED.value, last_error="recipient unreachable")
            .execution_options(synchronize_session=False)
        )
    return others
