"""Conversation (FSM) state: in the database by default, in Redis when CCHC_REDIS_URL is set.

The database storage keeps one `fsm_states` row per chat/user key and commits every change at
once (in its own short transaction, apart from the update's session), so a bot killed in the
middle of a conversation resumes where the person was after a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import FsmState

_KEEP: Any = object()  # "leave the state as it is"


def _state_name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


class DbStorage(BaseStorage):
    """aiogram storage over the `fsm_states` table (SQLite or PostgreSQL)."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], key_builder: KeyBuilder | None = None
    ) -> None:
        self.sessionmaker = sessionmaker
        self.key_builder = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)

    async def _write(self, key: StorageKey, *, state: Any, data: dict[str, Any] | None) -> None:
        """Change the state and/or the data of one key; a key with neither is deleted."""
        db_key = self._key(key)
        for attempt in range(2):
            async with self.sessionmaker() as session:
                row = await session.get(FsmState, db_key)
                new_state = (row.state if row else None) if state is _KEEP else state
                new_data = (dict(row.data or {}) if row else {}) if data is None else dict(data)
                if row is None:
                    if new_state is None and not new_data:
                        return
                    session.add(FsmState(key=db_key, state=new_state, data=new_data))
                elif new_state is None and not new_data:
                    await session.delete(row)
                else:
                    row.state, row.data = new_state, new_data
                try:
                    await session.commit()
                    return
                except IntegrityError:  # another task inserted the same key first
                    await session.rollback()
                    if attempt:
                        raise

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._write(key, state=_state_name(state), data=None)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.sessionmaker() as session:
            row = await session.get(FsmState, self._key(key))
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, state=_KEEP, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.sessionmaker() as session:
            row = await session.get(FsmState, self._key(key))
            return dict(row.data or {}) if row else {}

    async def close(self) -> None:
        """The engine belongs to the app, which disposes of it."""


def make_storage(redis_url: str | None, sessionmaker: async_sessionmaker[AsyncSession]) -> BaseStorage:
    """Redis when configured (shared by several bot processes), else the database."""
    if redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(
            redis_url, key_builder=DefaultKeyBuilder(prefix="cchc", with_bot_id=True, with_destiny=True)
        )
    return DbStorage(sessionmaker)
