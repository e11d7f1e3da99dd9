"""Engine and session factory for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

import socket
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
# PostgreSQL out of reach: give up connecting after this many seconds (the person is told to try
# again) instead of asyncpg's default minute; connections are checked before use, so the first
# update after an outage does not fail on a connection that died during it.
PG_CONNECT_TIMEOUT = 5.0

# An update holds its own session and, for a moment, the FSM storage's: two connections at most.
# Updates in flight are capped (bot/middlewares/db.py) so that they can never all hold one connection
# while waiting for a second (a pool deadlock seen in bench/updates.py with 15+ officers at once), and
# a few connections stay free for the outbox sender and the scheduler.
POOL_SIZE = 10
POOL_OVERFLOW = 10
MAX_CONCURRENT_UPDATES = (POOL_SIZE + POOL_OVERFLOW) // 2 - 2


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine. On SQLite: WAL, foreign keys on, a busy timeout, parent dir created."""
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    if is_sqlite:
        _ensure_sqlite_dir(url)
        kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    else:
        kwargs.setdefault("connect_args", {}).setdefault("timeout", PG_CONNECT_TIMEOUT)
        kwargs.setdefault("pool_pre_ping", True)
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` comes from the database layer and says the server cannot be reached right
    now (refused, dropped, timed out, pool exhausted), rather than that a statement was wrong."""
    import asyncpg
    from sqlalchemy import exc as sa_exc

    from_database = unreachable = False
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sa_exc.SQLAlchemyError | asyncpg.PostgresError | asyncpg.InterfaceError):
            from_database = True
        if _raised_in_driver(seen.__traceback__):  # asyncpg's connect raises plain OSErrors
            from_database = True
        if isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated:
            unreachable = True
        if isinstance(seen, sa_exc.TimeoutError | ConnectionError | TimeoutError | socket.gaierror):
            unreachable = True
        if isinstance(seen, asyncpg.PostgresConnectionError | asyncpg.CannotConnectNowError):
            unreachable = True
        if isinstance(seen, asyncpg.InterfaceError) and "connection" in str(seen).lower():
            unreachable = True
        seen = seen.__cause__ or seen.__context__
    return from_database and unreachable


def _raised_in_driver(tb: TracebackType | None) -> bool:
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("asyncpg", "sqlalchemy", "aiosqlite")):
            return True
        tb = tb.tb_next
    return False
