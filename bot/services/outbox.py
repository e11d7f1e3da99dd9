"""Notifications go to the outbox in the transaction of the change; the sender delivers them later."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Outbox
from bot.services.audit import jsonable


async def enqueue(
    session: AsyncSession,
    person_id: int | None,
    chat_id: int,
    kind: str,
    text: str,
    key: str,
    payload: dict[str, Any] | None = None,
) -> Outbox | None:
    """Queue one rendered HTML message. Idempotent on `key`: a second call with the same key (a
    retried update, a re-run job) queues nothing and returns None. Build keys from what makes the
    message unique, e.g. f"appraised:{item_score.id}:{person_id}"."""
    pending = [o for o in session.new if isinstance(o, Outbox) and o.idempotency_key == key]
    if pending:
        return None
    existing = await session.scalar(select(Outbox.id).where(Outbox.idempotency_key == key))
    if existing is not None:
        return None
    row = Outbox(
        idempotency_key=key,
        person_id=person_id,
        chat_id=chat_id,
        kind=kind,
        text=text,
        payload=None if payload is None else jsonable(payload),
    )
    session.add(row)
    return row
