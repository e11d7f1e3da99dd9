"""One database session per update, and each update_id applied once.

The session is handed to handlers as `session`. It is committed after the handler returns, rolled
back if the handler raises, and always closed. The update's id is written to `processed_updates`
in the update's first commit (a `before_commit` hook), so the change and the "done" mark land
together: a webhook retry or a re-delivered update finds the mark and is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import TelegramObject, Update
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.db.engine import MAX_CONCURRENT_UPDATES
from bot.db.models import ProcessedUpdate

log = logging.getLogger("bot.updates")

RECENT_IDS = 10_000


class DbSessionMiddleware(BaseMiddleware):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        # Ids handled or in flight in this process: catches a duplicate without asking the database.
        self._recent: OrderedDict[int, None] = OrderedDict()
        # Updates beyond this wait their turn instead of exhausting the connection pool (engine.py).
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_UPDATES)

    def _remember(self, update_id: int) -> bool:
        """False if the id was already seen by this process."""
        if update_id in self._recent:
            return False
        self._recent[update_id] = None
        while len(self._recent) > RECENT_IDS:
            self._recent.popitem(last=False)
        return True

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        update_id = event.update_id if isinstance(event, Update) else None
        if update_id is not None and not self._remember(update_id):
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
            if update_id is not None and await session.get(ProcessedUpdate, update_id) is not None:
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
