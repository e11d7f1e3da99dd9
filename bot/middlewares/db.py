"""One database session per update, and each update_id applied once.

The session is handed to handlers as `session`. It is committed after the handler returns, rolled
back if the handler raises, and always closed. The update's id is written to `processed_updates`
in the update's first commit (a `before_commit` hook), so the change and the "done" mark land
together: a webhook retry or a re-delivered update finds the mark and is dropped.

Marks count for `KEEP_PROCESSED` only. Telegram keeps an undelivered update for 24 hours, so a
re-delivery is always younger than that; but after a week without updates it may start the ids
again, and an id seen long ago is then a new update. Older marks are ignored here (in memory and
in the table) and pruned by `prune_processed` (hourly, in every process).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import TelegramObject, Update
from sqlalchemy import delete
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.db.engine import MAX_CONCURRENT_UPDATES
from bot.db.models import ProcessedUpdate

log = logging.getLogger("bot.updates")

RECENT_IDS = 10_000
KEEP_PROCESSED = timedelta(days=2)


def utcnow() -> datetime:
    return datetime.now(UTC)


async def prune_processed(session: AsyncSession, now: datetime | None = None) -> int:
    """Forget update ids marked more than `KEEP_PROCESSED` ago; commits; returns how many."""
    cutoff = (now or utcnow()) - KEEP_PROCESSED
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < cutoff))
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


class DbSessionMiddleware(BaseMiddleware):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        # Ids handled or in flight in this process, oldest first, with when they were first seen:
        # catches a duplicate without asking the database.
        self._recent: OrderedDict[int, datetime] = OrderedDict()
        # Updates beyond this wait their turn instead of exhausting the connection pool (engine.py).
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_UPDATES)

    def _remember(self, update_id: int, now: datetime) -> bool:
        """False if the id was already seen by this process within `KEEP_PROCESSED`."""
        cutoff = now - KEEP_PROCESSED
        while self._recent and (len(self._recent) > RECENT_IDS or next(iter(self._recent.values())) < cutoff):
            self._recent.popitem(last=False)
        if update_id in self._recent:
            return False
        self._recent[update_id] = now
        return True

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        update_id = event.update_id if isinstance(event, Update) else None
        if update_id is not None and not self._remember(update_id, utcnow()):
            log.info("update %s: duplicate, dropped", update_id)
            return None
        async with self._slots:
            return await self._handle(handler, event, data, update_id)

    async def _handle(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
        update_id: int | None,
    ) -> Any:
        async with self.sessionmaker() as session:
            if update_id is not None and not await _unseen(session, update_id):
                log.info("update %s: already processed, dropped", update_id)
                return None
            marked = _mark_on_first_commit(session, update_id)
            data["session"] = session
            try:
                result = await handler(event, data)
                await session.commit()
            except IntegrityError as exc:
                await session.rollback()
                if update_id is not None and "processed_updates" in str(exc):
                    log.info("update %s: processed concurrently elsewhere, dropped", update_id)
                    return None
                raise
            except TelegramBadRequest as exc:
                # Re-rendering an unchanged screen is not a failure of the update's work.
                if "message is not modified" in exc.message:
                    await session.commit()
                else:
                    await session.rollback()
                raise
            except BaseException:
                await session.rollback()
                raise
            finally:
                marked.remove()
            return result


async def _unseen(session: AsyncSession, update_id: int) -> bool:
    """True unless the id was marked within `KEEP_PROCESSED`; an older mark is removed (committed)."""
    row = await session.get(ProcessedUpdate, update_id)
    if row is None:
        return True
    if row.at >= utcnow() - KEEP_PROCESSED:
        return False
    log.info("update %s: id last seen at %s, taken as a new update", update_id, row.at.isoformat())
    await session.delete(row)
    await session.commit()
    return True


class _Marker:
    """Adds the ProcessedUpdate row to the session's first successful commit."""

    def __init__(self, session: AsyncSession, update_id: int | None) -> None:
        self.sync_session = session.sync_session
        self.update_id = update_id
        self.done = update_id is None
        self.row: ProcessedUpdate | None = None
        if not self.done:
            sa_event.listen(self.sync_session, "before_commit", self._before_commit)
            sa_event.listen(self.sync_session, "after_commit", self._after_commit)

    def _before_commit(self, session: Session) -> None:
        if not self.done and (self.row is None or self.row not in session):
            self.row = ProcessedUpdate(update_id=self.update_id)
            session.add(self.row)

    def _after_commit(self, session: Session) -> None:
        self.done = True

    def remove(self) -> None:
        for name, fn in (("before_commit", self._before_commit), ("after_commit", self._after_commit)):
            if sa_event.contains(self.sync_session, name, fn):
                sa_event.remove(self.sync_session, name, fn)


def _mark_on_first_commit(session: AsyncSession, update_id: int | None) -> _Marker:
    return _Marker(session, update_id)
