"""Leader election for the schedule: with several bot processes exactly one runs the jobs.

- PostgreSQL: a session-level `pg_try_advisory_lock` on a connection held open while leading; the
  lock dies with the connection (process killed), so another process takes over on its next try.
- Redis (when CCHC_REDIS_URL is set): `SET key token NX PX ttl`, renewed every ttl/3 by the holder
  with a compare-and-extend script; a dead holder's key expires after `ttl`.
- SQLite (one machine by construction): an exclusive `flock` on `<database>.scheduler.lock`; the
  kernel drops it when the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import uuid
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

LOCK_NAME = "cchc-bot:scheduler"


class LeaderLock(Protocol):
    description: str

    async def acquire(self) -> bool:
        """Try once, without waiting; True when this process now leads."""
        ...

    async def still_held(self) -> bool:
        """Renew/check while leading; False means leadership is lost (stop running jobs)."""
        ...

    async def release(self) -> None: ...


def _key64(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PgAdvisoryLock:
    def __init__(self, engine: AsyncEngine, name: str = LOCK_NAME) -> None:
        self.engine = engine
        self.key = _key64(name)
        self.description = f"pg_advisory_lock({self.key})"
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        if self._conn is not None:
            return True
        conn = await self.engine.connect()
        try:
            got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}))
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            await self._conn.scalar(text("SELECT 1"))
            await self._conn.commit()
            return True
        except Exception:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
            return False

    async def release(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(Exception):
            await self._conn.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            await self._conn.commit()
        with contextlib.suppress(Exception):
            await self._conn.close()
        self._conn = None


_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisLock:
    def __init__(self, url: str, name: str = LOCK_NAME, ttl_ms: int = 30_000) -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url)
        self.key = name
        self.ttl_ms = ttl_ms
        self.token = uuid.uuid4().hex
        self.description = f"redis SET {name} NX PX {ttl_ms}"
        self._held = False

    async def acquire(self) -> bool:
        if self._held:
            return await self.still_held()
        self._held = bool(await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))
        return self._held

    async def still_held(self) -> bool:
        if not self._held:
            return False
        try:
            self._held = bool(await self.redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms))
        except Exception:
            self._held = False
        return self._held

    async def release(self) -> None:
        with contextlib.suppress(Exception):
            if self._held:
                await self.redis.eval(_RELEASE, 1, self.key, self.token)
        self._held = False
        with contextlib.suppress(Exception):
            await self.redis.aclose()


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"flock {path}"
        self._fp: IO[bytes] | None = None

    async def acquire(self) -> bool:
        if self._fp is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fp = self.path.open("ab")
        try:
            fcntl.flock(fp.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fp.close()
            return False
        fp.truncate(0)
        fp.write(f"{os.getpid()}\n".encode())
        fp.flush()
        self._fp = fp
        return True

    async def still_held(self) -> bool:
        return self._fp is not None

    async def release(self) -> None:
        if self._fp is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fp.fileno(), fcntl.LOCK_UN)
            self._fp.close()
            self._fp = None


def make_leader_lock(database_url: str, engine: AsyncEngine, redis_url: str | None = None) -> LeaderLock:
    """PostgreSQL's advisory lock when the database is PostgreSQL (it dies with the holder's
    connection, so a killed leader is replaced at the next try, not after a TTL); else Redis when
    configured; else a file lock beside the SQLite database."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return PgAdvisoryLock(engine)
    if redis_url:
        return RedisLock(redis_url)
    database = url.database or ""
    if not database or database == ":memory:":
        return FileLock(Path(os.environ.get("TMPDIR", "/tmp")) / f"cchc-scheduler-{os.getpid()}.lock")
    return FileLock(Path(database).expanduser().resolve().with_suffix(".scheduler.lock"))
