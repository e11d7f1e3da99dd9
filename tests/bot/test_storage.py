"""Conversation state storage: the database one (default) and Redis (CCHC_REDIS_URL)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from sqlalchemy import func, select

from bot.db.engine import make_engine, make_sessionmaker
from bot.db.models import FsmState
from bot.storage import DbStorage, make_storage

REDIS_URL = "redis://127.0.0.1:6379/15"


class Scoring(StatesGroup):
    value = State()


@pytest.fixture
async def db_storage(db_url: str) -> AsyncIterator[DbStorage]:
    engine = make_engine(db_url)
    yield DbStorage(make_sessionmaker(engine))
    await engine.dispose()


def _redis_reachable() -> str | None:
    async def ping() -> None:
        from redis.asyncio import Redis

        client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        asyncio.run(ping())
    except Exception as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc!r}"
    return None


@pytest.fixture
async def redis_storage(db_url: str) -> AsyncIterator[BaseStorage]:
    reason = await asyncio.to_thread(_redis_reachable)
    if reason:
        pytest.skip(reason)
    engine = make_engine(db_url)
    storage = make_storage(REDIS_URL, make_sessionmaker(engine))
    yield storage
    await storage.close()
    await engine.dispose()


def _key(user_id: int = 42) -> StorageKey:
    return StorageKey(bot_id=uuid.uuid4().int % 10**9, chat_id=user_id, user_id=user_id)


async def _roundtrip(storage: BaseStorage) -> None:
    key, other = _key(1), _key(2)
    assert await storage.get_state(key) is None
    assert await storage.get_data(key) == {}
    await storage.set_state(key, Scoring.value)
    await storage.set_data(key, {"item": "1.2.3", "page": 2, "nested": {"a": [1, "b"]}})
    await storage.update_data(key, {"page": 3})
    assert await storage.get_state(key) == "Scoring:value"
    assert await storage.get_data(key) == {"item": "1.2.3", "page": 3, "nested": {"a": [1, "b"]}}
    assert await storage.get_state(other) is None  # keys are separate
    await storage.set_state(key, None)
    assert await storage.get_data(key) == {"item": "1.2.3", "page": 3, "nested": {"a": [1, "b"]}}
    await storage.set_data(key, {})
    assert await storage.get_state(key) is None and await storage.get_data(key) == {}


async def test_db_storage_roundtrip(db_storage: DbStorage) -> None:
    await _roundtrip(db_storage)


async def test_db_storage_survives_a_new_engine(db_url: str) -> None:
    """What one process writes, the next one reads (a restart in the middle of a conversation)."""
    key = _key()
    engine = make_engine(db_url)
    await DbStorage(make_sessionmaker(engine)).set_state(key, "Scoring:value")
    await DbStorage(make_sessionmaker(engine)).update_data(key, {"item": "2.1"})
    await engine.dispose()
    engine = make_engine(db_url)
    try:
        storage = DbStorage(make_sessionmaker(engine))
        assert await storage.get_state(key) == "Scoring:value"
        assert await storage.get_data(key) == {"item": "2.1"}
    finally:
        await engine.dispose()


async def test_db_storage_deletes_empty_rows(db_storage: DbStorage) -> None:
    key = _key()
    await db_storage.set_state(key, "Scoring:value")
    await db_storage.set_state(key, None)
    await db_storage.set_data(key, {})
    async with db_storage.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(FsmState)) == 0


async def test_db_storage_concurrent_first_writes(db_storage: DbStorage) -> None:
    key = _key()
    await asyncio.gather(*(db_storage.update_data(key, {f"k{i}": i}) for i in range(5)))
    assert len(await db_storage.get_data(key)) >= 1


@pytest.mark.redis
async def test_redis_storage_roundtrip(redis_storage: BaseStorage) -> None:
    from aiogram.fsm.storage.redis import RedisStorage

    assert isinstance(redis_storage, RedisStorage)
    await _roundtrip(redis_storage)
